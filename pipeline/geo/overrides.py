"""The place file (``places.tsv`` and the user's own): add or override gazetteer names.

Each line: ``name<TAB>kind<TAB>country[<TAB>geonameid<TAB>lat<TAB>lon<TAB>admin1]``; ``#`` starts a
comment. See the packaged ``places.tsv`` for the kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

FILE_KINDS = ("country", "demonym", "alias", "city", "admin1", "continent", "none")
PACKAGED = Path(__file__).with_name("places.tsv")


@dataclass(frozen=True)
class Override:
    name: str
    kind: str
    country: str | None
    geonameid: int | None = None
    lat: float | None = None
    lon: float | None = None
    admin1: str | None = None
    origin: str = ""  # FILE:LINE, for error messages


def _number(text: str, cast: type, origin: str) -> float | int | None:
    if not text.strip():
        return None
    try:
        return cast(text)
    except ValueError:
        raise ConfigError(f"{origin}: {text!r} is not a number") from None


def parse_line(line: str, origin: str) -> Override | None:
    """One line of the file -> an Override (None for blank and comment lines); ConfigError when bad."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    cols = [c.strip() for c in line.rstrip("\n").split("\t")]
    if len(cols) < 3:
        raise ConfigError(f"{origin}: expected name<TAB>kind<TAB>country, got {line.strip()!r}")
    cols += [""] * (7 - len(cols))
    name, kind, country = cols[0], cols[1].lower(), cols[2].upper() or None
    if kind not in FILE_KINDS:
        raise ConfigError(f"{origin}: unknown kind {kind!r} (expected one of {', '.join(FILE_KINDS)})")
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise ConfigError(f"{origin}: country {country!r} is not an ISO 3166 alpha-2 code")
    gid = _number(cols[3], int, origin)
    lat, lon = _number(cols[4], float, origin), _number(cols[5], float, origin)
    if kind == "alias" and gid is None:
        raise ConfigError(f"{origin}: an alias needs the geonameid of the place it names")
    if kind in ("city", "admin1", "continent") and (lat is None or lon is None) and gid is None:
        raise ConfigError(f"{origin}: a new {kind} needs lat and lon")
    return Override(name, kind, country, int(gid) if gid is not None else None, lat, lon,
                    cols[6] or None, origin)


def read_overrides(path: Path) -> list[Override]:
    """Every entry of one place file, in file order; ConfigError names the bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the place file {path}: {exc}") from None
    out = []
    for i, line in enumerate(lines, 1):
        entry = parse_line(line, f"{path}:{i}")
        if entry is not None:
            out.append(entry)
    return out
