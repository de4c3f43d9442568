"""The gazetteer: loaded from the installed packages, indexed by normalized names, overridden by place files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.geo import default_gazetteer, load_gazetteer
from pipeline.geo.names import name_key


def test_names_are_normalized_alike() -> None:
    assert name_key("Rostov-on-Don") == name_key("rostov on don") == "rostov on don"
    assert name_key("the U.S.") == name_key("US") == "us"
    assert name_key("São Paulo") == "sao paulo" and name_key("Belarus’") == "belarus"
    assert name_key("Москва") == ""  # other scripts are not indexed


def test_the_default_gazetteer_is_loaded_once_and_measured() -> None:
    gaz = default_gazetteer()
    assert default_gazetteer() is gaz
    assert gaz.stats.cutoff == 15000 and gaz.stats.places > 35000 and gaz.stats.load_seconds > 0
    minsk = next(c.place for c in gaz.lookup("MINSK") if c.place.kind == "city")
    assert (minsk.country, round(minsk.lat or 0, 2), round(minsk.lon or 0, 2)) == ("BY", 53.9, 27.57)
    assert gaz.country("by") is not None and gaz.country("by").name == "Belarus"  # type: ignore[union-attr]
    assert gaz.demonym("Belarusian") is gaz.country("BY")


def test_local_and_alternate_names_find_the_place() -> None:
    gaz = default_gazetteer()
    for name in ("Kiev", "Kyiv", "Peking", "Rostov na Donu"):
        assert gaz.lookup(name), name
    assert {c.place.country for c in gaz.lookup("Peking")} == {"CN"}


def test_a_user_file_adds_and_overrides_places(tmp_path: Path) -> None:
    f = tmp_path / "mine.tsv"
    f.write_text("# my newsroom's places\n"
                 "Zorbagrad\tcity\tBY\t\t52.1\t23.7\n"
                 "Paris\talias\tUS\t4717560\n"  # Paris always means Paris, Texas here
                 "Ruthenian\tdemonym\tUA\n", encoding="utf-8")
    gaz = load_gazetteer(extra=[f])
    z = gaz.lookup("zorbagrad")[0].place
    assert (z.name, z.kind, z.country, z.lat, z.lon, z.geonameid) == ("Zorbagrad", "city", "BY", 52.1, 23.7, None)
    assert [(c.place.country, c.place.admin1) for c in gaz.lookup("Paris")] == [("US", "US-TX")]
    assert gaz.demonym("Ruthenian") is gaz.country("UA")
    assert str(f) in gaz.stats.extra_files


@pytest.mark.parametrize(("line", "why"), [
    ("Nowhere\tvillage\tBY", "unknown kind"),
    ("Nowhere\tcity\tBYE\t\t1\t2", "not an ISO 3166"),
    ("Nowhere\talias\tBY", "needs the geonameid"),
    ("Nowhere\talias\tBY\t999999999", "no place with geonameid"),
    ("Nowhere\tcity\tBY", "needs lat and lon"),
    ("Nowhere\tdemonym\tQQ", "no country 'QQ'"),
])
def test_a_bad_line_is_an_error_naming_the_line(tmp_path: Path, line: str, why: str) -> None:
    f = tmp_path / "bad.tsv"
    f.write_text(f"# comment\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=why) as info:
        load_gazetteer(extra=[f])
    assert f"{f}:2" in str(info.value)


def test_a_users_place_file_set_in_the_environment_is_read(tmp_path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "mine.tsv").write_text("Gotham Flats\tcity\tUS\t\t40.71\t-74.01\tNY\n")
    code = ("from pipeline.geo import default_gazetteer\n"
            "g = default_gazetteer()\n"
            "print(g.stats.extra_files)\n"
            "print([c.place.country for c in g.lookup('Gotham Flats')])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"NEWSSTREAM_PLACES_FILE": str(tmp_path / "mine.tsv"), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert str(tmp_path / "mine.tsv") in res.stdout and "['US']" in res.stdout
