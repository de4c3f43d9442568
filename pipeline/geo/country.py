"""Where the news happens: the country of each event, and of the whole article (pure functions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.geo.records import PlaceName, Resolved

DATELINE_WEIGHT = 3.0  # the dateline counts as this many mentions (chosen on the dev half of Reuters)
EVENT_LOCATION_WEIGHT = 1.0  # each event placed there adds this
DEMONYM_WEIGHT = 0.25  # a "Russian" (mostly "Russian President") counts a quarter of a "Russia"


def event_country(location: str | None, sentence: Sequence[str | None], dateline: str | None) -> str | None:
    """An event's country: its own location's, else the first of its sentence's places, else the dateline's."""
    if location:
        return location
    return next((c for c in sentence if c), None) or dateline


def country_weights(names: Sequence[PlaceName], resolved: Sequence[Resolved]) -> dict[str, float]:
    """Each country's weight in an article: mentions, the dateline and event roles of its places."""
    weights: dict[str, float] = defaultdict(float)
    for pn, r in zip(names, resolved, strict=True):
        if r.place is None or not r.place.country:
            continue
        w = float(len(pn.spans) or 1)
        if pn.label == "NORP":
            w *= DEMONYM_WEIGHT
        w += EVENT_LOCATION_WEIGHT * pn.event_locations + (DATELINE_WEIGHT if pn.dateline else 0.0)
        weights[r.place.country] += w
    return weights


def article_country(names: Sequence[PlaceName], resolved: Sequence[Resolved]) -> str | None:
    """The country with the most weight; ties go to the dateline's, then to the first named. None: no place."""
    weights = country_weights(names, resolved)
    if not weights:
        return None
    dateline = next((r.place.country for pn, r in zip(names, resolved, strict=True)
                     if pn.dateline and r.place is not None), None)
    order: dict[str, int] = {}
    for pn, r in zip(names, resolved, strict=True):
        if r.place is not None and r.place.country:
            order.setdefault(r.place.country, min((s for s, _ in pn.spans), default=0))
    return max(weights, key=lambda c: (weights[c], c == dateline, -order.get(c, 0)))
