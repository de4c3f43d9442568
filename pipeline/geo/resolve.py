"""Place resolution: the names of one article, and their context, give places (pure functions).

Each candidate of a name gets a score: a prior (countries and continents first, then first-level
divisions, then cities by population; an alternate name counts less than a place's own name), plus
what the article says: the places around it ("Paris, Texas", "Rostov-on-Don, in southern Russia"),
the other places of the article (their countries and divisions) and the dateline's country. The best
candidate wins; a name without candidates, or whose best is a weak alternate-name match with nothing
in the article for it, stays unresolved. Nothing is guessed into a country.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.geo.context import containers
from pipeline.geo.gazetteer import Gazetteer
from pipeline.geo.records import Candidate, Place, PlaceName, Resolved

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
PRIOR = {"country": 4.5, "continent": 4.5, "admin1": 2.8}
ALTERNATE = -1.0  # a GeoNames alternate name, not the place's own
MIN_SCORE = 1.6  # below it a name stays unresolved
CONTAINED = {"admin1": 4.0, "country": 3.0}  # inside a named container of this kind
IN_CONTEXT = 0.75  # the article names other places of the candidate's country (ties, not decades)
FULL_WEIGHT = 2.0  # the context bonuses are full from this many mentions (of sure places) on
SUB_CONTEXT = 0.25  # ...and cities or divisions there
SAME_ADMIN1 = 2.0  # the article names the candidate's first-level division, or places in it
DATELINE = 1.0  # the candidate is in the dateline's country


@dataclass(frozen=True)
class _Context:
    countries: dict[str, float]  # country -> weight of the other places there
    sub: dict[str, float]  # the same, counting cities and divisions only
    admin1: dict[str, float]
    dateline_country: str | None


def prior(c: Candidate) -> float:
    p = c.place
    base = PRIOR.get(p.kind) or 0.5 * math.log10(max(p.population, 10))
    return base + (0.0 if c.primary else ALTERNATE)


def inside(inner: Place, outer: Place) -> float:
    """The bonus for ``inner`` lying in ``outer`` (0 when it does not, or cannot)."""
    if inner is outer or outer.kind not in CONTAINED or inner.kind in ("country", "continent"):
        return 0.0
    if outer.kind == "admin1":
        if inner.kind == "admin1":
            return 0.0
        if inner.admin1 and inner.admin1 == outer.admin1:
            return CONTAINED["admin1"]
        return CONTAINED["country"] if inner.country == outer.country else 0.0
    return CONTAINED["country"] if inner.country == outer.country else 0.0


def candidates(gaz: Gazetteer, pn: PlaceName) -> tuple[Candidate, ...]:
    seen: dict[int, Candidate] = {}
    for form in (pn.name, *pn.forms):
        for c in gaz.lookup(form):
            if id(c.place) not in seen or c.primary:
                seen[id(c.place)] = c
    return tuple(seen.values())


def _container_places(gaz: Gazetteer, pn: PlaceName, text: str) -> list[Place]:
    out: list[Place] = []
    for start, end in pn.spans:
        for name in containers(text, start, end):
            dem = gaz.demonym(name)
            out.extend([dem] if dem else [c.place for c in gaz.lookup(name)])
    return out


def _context_score(c: Candidate, ctx: _Context, dateline: bool) -> float:
    """What the rest of the article says for ``c``; a dateline names a well-known place: only its own words count."""
    p, s = c.place, 0.0
    if p.kind == "admin1" and p.admin1 and ctx.admin1.get(p.admin1, 0) > 0:  # Georgia beside Atlanta
        s += SAME_ADMIN1  # one city named there is enough: Atlanta is in Georgia
    if dateline:
        return s
    if p.country and ctx.countries.get(p.country, 0) > 0:
        s += IN_CONTEXT * min(1.0, ctx.countries[p.country] / FULL_WEIGHT)
        s += SUB_CONTEXT if p.kind != "country" and ctx.sub.get(p.country, 0) > 0 else 0.0
    if p.admin1 and p.kind != "admin1" and ctx.admin1.get(p.admin1, 0) > 0:
        s += SAME_ADMIN1 * min(1.0, ctx.admin1[p.admin1] / FULL_WEIGHT)
    if p.country and p.country == ctx.dateline_country:
        s += DATELINE
    return s


def _best(scored: list[tuple[float, Candidate]]) -> tuple[float, Candidate] | None:
    if not scored:
        return None
    return max(scored, key=lambda t: (t[0], t[1].place.population, -(t[1].place.geonameid or 0)))


def _local(cands: Sequence[Candidate], around: Sequence[Place],
           inner_of: Sequence[Place]) -> list[tuple[float, Candidate]]:
    """Prior + containment: ``around`` the places the text puts this name in, ``inner_of`` those it holds."""
    out = []
    for c in cands:
        s = prior(c) + max((inside(c.place, o) for o in around), default=0.0)
        s += max((inside(i, c.place) for i in inner_of), default=0.0)
        out.append((s, c))
    return out


def resolve_places(gaz: Gazetteer, names: Sequence[PlaceName], text: str) -> list[Resolved]:
    """One Resolved per PlaceName, in order. NORP names map to a country only through demonyms."""
    cands = [candidates(gaz, pn) if pn.label in PLACE_LABELS else () for pn in names]
    around = [_container_places(gaz, pn, text) if cs else [] for pn, cs in zip(names, cands, strict=True)]
    inner_of: list[list[Place]] = [[] for _ in names]
    for i, outer in enumerate(around):  # the reverse: "Ontario" in "London, Ontario" holds London
        for j, cs in enumerate(cands):
            if j != i and any(c.place in outer for c in cs):
                inner_of[j].extend(c.place for c in cands[i])
    local = [_local(cs, around[i], inner_of[i]) for i, cs in enumerate(cands)]
    first = [_best(sc) for sc in local]
    out = []
    for i, pn in enumerate(names):
        if pn.label == "NORP" or not cands[i]:  # "Belarusian"; "Kuwaiti" labelled GPE
            dem = next((d for d in (gaz.demonym(f) for f in (pn.name, *pn.forms)) if d), None)
            out.append(Resolved(dem, "demonym" if dem else "unknown"))
            continue
        ctx = _context(names, cands, first, exclude=i)
        scored = [(s + _context_score(c, ctx, pn.dateline), c) for s, c in local[i]]
        best = _best(scored)
        if best is None or best[0] < MIN_SCORE:
            out.append(Resolved(None, "unknown" if best is None else "weak", len(scored)))
            continue
        out.append(Resolved(best[1].place, _reason(scored, local[i], best), len(scored) - 1))
    return out


def _reason(scored: list[tuple[float, Candidate]], local: list[tuple[float, Candidate]],
            best: tuple[float, Candidate]) -> str:
    if len(scored) == 1:
        return "only"
    if best[0] - prior(best[1]) == 0:
        return "population" if best[1].place.kind == "city" else "kind"
    by_local = _best(local)
    return "containment" if by_local and by_local[1] is best[1] and by_local[0] > prior(best[1]) else "context"


def _context(names: Sequence[PlaceName], cands: Sequence[Sequence[Candidate]],
             first: Sequence[tuple[float, Candidate] | None], exclude: int) -> _Context:
    """The other names' first readings: their countries and divisions, weighted by mentions."""
    countries: dict[str, float] = defaultdict(float)
    sub: dict[str, float] = defaultdict(float)
    admin1: dict[str, float] = defaultdict(float)
    dateline = None
    for j, (pn, best) in enumerate(zip(names, first, strict=True)):
        if j == exclude or best is None or best[0] < MIN_SCORE:
            continue
        p = best[1].place
        sure = len({c.place.country for c in cands[j]}) == 1
        w = max(len(pn.spans), 1) * (1.0 if sure else 0.5)
        if p.country:
            countries[p.country] += w
            if p.kind in ("city", "admin1"):
                sub[p.country] += w
        if p.admin1:
            admin1[p.admin1] += w
        if pn.dateline and dateline is None:
            dateline = p.country
    return _Context(countries, sub, admin1, dateline)
