"""Place resolution on texts written for these tests: ambiguity, containment, datelines, demonyms, unknowns."""

from __future__ import annotations

import re

import pytest

from pipeline.geo import PlaceName, article_country, default_gazetteer, event_country, resolve_places
from pipeline.geo.gazetteer import Gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def names_in(text: str, names: list[tuple[str, str]], dateline: str | None = None) -> list[PlaceName]:
    """PlaceNames for (name, label) pairs with every occurrence of the name in ``text``."""
    out = []
    for name, label in names:
        spans = tuple((m.start(), m.end()) for m in re.finditer(re.escape(name), text))
        assert spans, f"{name!r} is not in the text"
        out.append(PlaceName(name, label, (name,), spans, dateline is not None and name == dateline))
    return out


def resolve(gaz: Gazetteer, text: str, names: list[tuple[str, str]], dateline: str | None = None) -> dict:
    pns = names_in(text, names, dateline)
    return {pn.name: r.place for pn, r in zip(pns, resolve_places(gaz, pns, text), strict=True)}


def test_paris_beside_texas_is_the_town_in_texas(gaz: Gazetteer) -> None:
    text = "The rodeo in Paris drew crowds from all over Texas, and Dallas sent a marching band."
    got = resolve(gaz, text, [("Paris", "GPE"), ("Texas", "GPE"), ("Dallas", "GPE")])
    assert (got["Paris"].country, got["Paris"].admin1) == ("US", "US-TX")
    assert got["Texas"].kind == "admin1" and got["Texas"].admin1 == "US-TX"


def test_paris_alone_is_the_french_capital(gaz: Gazetteer) -> None:
    got = resolve(gaz, "Ministers met in Paris on Tuesday.", [("Paris", "GPE")])
    assert got["Paris"].country == "FR" and got["Paris"].kind == "city"
    assert got["Paris"].lat == pytest.approx(48.85, abs=0.05)


def test_paris_comma_texas_is_contained(gaz: Gazetteer) -> None:
    text = "A storm hit Paris, Texas, overnight."
    got = resolve(gaz, text, [("Paris", "GPE"), ("Texas", "GPE")])
    assert got["Paris"].admin1 == "US-TX"


def test_london_ontario_is_in_canada_and_ontario_is_the_province(gaz: Gazetteer) -> None:
    text = "The factory in London, Ontario, will close in May."
    got = resolve(gaz, text, [("London", "GPE"), ("Ontario", "GPE")])
    assert got["London"].country == "CA"
    assert got["Ontario"].kind == "admin1" and got["Ontario"].admin1 == "CA-ON"


def test_london_alone_is_in_england(gaz: Gazetteer) -> None:
    got = resolve(gaz, "Shares fell in London.", [("London", "GPE")])
    assert got["London"].country == "GB"


def test_georgia_beside_tbilisi_is_the_country(gaz: Gazetteer) -> None:
    text = "Georgia held elections; in Tbilisi the opposition protested."
    got = resolve(gaz, text, [("Georgia", "GPE"), ("Tbilisi", "GPE")])
    assert got["Georgia"].kind == "country" and got["Georgia"].country == "GE"


def test_georgia_beside_atlanta_and_savannah_is_the_state(gaz: Gazetteer) -> None:
    text = "Voters in Georgia lined up in Atlanta and in Savannah."
    got = resolve(gaz, text, [("Georgia", "GPE"), ("Atlanta", "GPE"), ("Savannah", "GPE")])
    assert got["Georgia"].kind == "admin1" and got["Georgia"].admin1 == "US-GA"


def test_georgia_beside_only_the_united_states_stays_the_country(gaz: Gazetteer) -> None:
    text = "The United States and Georgia signed a trade deal."
    got = resolve(gaz, text, [("United States", "GPE"), ("Georgia", "GPE")])
    assert got["Georgia"].country == "GE"


def test_containment_in_southern_russia(gaz: Gazetteer) -> None:
    text = "He flew to Rostov-on-Don, in southern Russia, on Saturday."
    got = resolve(gaz, text, [("Rostov-on-Don", "GPE"), ("Russia", "GPE")])
    assert got["Rostov-on-Don"].country == "RU" and got["Russia"].kind == "country"


def test_the_russian_city_of_moscow_is_not_moscow_idaho(gaz: Gazetteer) -> None:
    text = "Farmers in Idaho watched as the Russian city of Moscow hosted the summit."
    got = resolve(gaz, text, [("Idaho", "GPE"), ("Moscow", "GPE")])
    assert got["Moscow"].country == "RU"


def test_moscow_beside_idaho_towns_is_the_idaho_town(gaz: Gazetteer) -> None:
    text = "The university town of Moscow, Idaho, sits near Pullman."
    got = resolve(gaz, text, [("Moscow", "GPE"), ("Idaho", "GPE")])
    assert (got["Moscow"].country, got["Moscow"].admin1) == ("US", "US-ID")


def test_datelines_in_capitals(gaz: Gazetteer) -> None:
    text = "MINSK – The president spoke. Later he went to Warsaw."
    names = names_in(text, [("MINSK", "GPE"), ("Warsaw", "GPE")], dateline="MINSK")
    res = resolve_places(gaz, names, text)
    assert res[0].place is not None and res[0].place.name == "Minsk" and res[0].place.country == "BY"
    assert article_country(names, res) == "BY"  # the dateline outweighs one mention of Poland


def test_demonyms_name_countries(gaz: Gazetteer) -> None:
    text = "Belarusian troops and French diplomats met Kuwaiti officials."
    got = resolve(gaz, text, [("Belarusian", "NORP"), ("French", "NORP"), ("Kuwaiti", "GPE")])
    assert {k: v.country for k, v in got.items()} == {"Belarusian": "BY", "French": "FR", "Kuwaiti": "KW"}
    assert got["Belarusian"].kind == "country"


def test_historical_names_map_to_todays_countries(gaz: Gazetteer) -> None:
    text = "West Germany and the USSR traded with Burma."
    got = resolve(gaz, text, [("West Germany", "GPE"), ("USSR", "GPE"), ("Burma", "GPE")])
    assert {k: v.country for k, v in got.items()} == {"West Germany": "DE", "USSR": "RU", "Burma": "MM"}


def test_unresolvable_names_stay_unresolved(gaz: Gazetteer) -> None:
    text = "Troops left Zorbagrad and crossed the Qwyxlandia plain; Muslims in the West watched."
    got = resolve(gaz, text, [("Zorbagrad", "GPE"), ("Qwyxlandia", "LOC"), ("Muslims", "NORP"), ("West", "LOC")])
    assert got == {"Zorbagrad": None, "Qwyxlandia": None, "Muslims": None, "West": None}
    names = names_in(text, [("Zorbagrad", "GPE"), ("Qwyxlandia", "LOC")])
    assert article_country(names, resolve_places(gaz, names, text)) is None  # never guessed


def test_people_are_not_places(gaz: Gazetteer) -> None:
    text = "Lukashenko met Paris Hilton."
    pns = names_in(text, [("Paris Hilton", "PERSON")])
    assert resolve_places(gaz, pns, text)[0].place is None


def test_article_country_follows_the_mentions(gaz: Gazetteer) -> None:
    text = "Belarus and Belarus again, Minsk and Belarus; Moscow once."
    names = names_in(text, [("Belarus", "GPE"), ("Minsk", "GPE"), ("Moscow", "GPE")])
    assert article_country(names, resolve_places(gaz, names, text)) == "BY"


def test_event_country_prefers_its_own_location() -> None:
    assert event_country("UA", ["PL"], "BY") == "UA"
    assert event_country(None, [None, "PL"], "BY") == "PL"
    assert event_country(None, [], "BY") == "BY"
    assert event_country(None, [], None) is None
