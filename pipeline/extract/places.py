"""The geo step of extraction: the records' places resolved by ``pipeline.geo``, returned as new records.

Entities gain ``geo``, events ``country``, the Extraction its ``country``. Runs on plain records
and the body text: no spaCy object is needed.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from pipeline.geo import (
    Gazetteer,
    PlaceName,
    article_country,
    default_gazetteer,
    event_country,
    resolve_places,
)
from pipeline.geo.context import dateline_span
from pipeline.records import Entity, Event, Extraction

GEO_LABELS = frozenset({"GPE", "LOC", "FAC", "NORP"})


def _place_names(ex: Extraction, dateline: tuple[int, int] | None) -> tuple[list[PlaceName], list[int]]:
    names, index = [], []
    locations: dict[str, int] = {}
    for ev in ex.events:
        if ev.location is not None and ev.location.entity:
            locations[ev.location.entity] = locations.get(ev.location.entity, 0) + 1
    for i, e in enumerate(ex.entities):
        if e.label not in GEO_LABELS:
            continue
        spans = tuple((m.start, m.end) for m in e.mentions if m.field == "body")
        at_dateline = dateline is not None and any(s <= dateline[0] and dateline[1] <= t for s, t in spans)
        names.append(PlaceName(e.name, e.label, tuple(dict.fromkeys(m.text for m in e.mentions)), spans,
                               at_dateline, locations.get(e.name, 0)))
        index.append(i)
    return names, index


def add_places(ex: Extraction, text: str, sentences: Sequence[tuple[int, int]],
               dateline: tuple[int, int] | None, gazetteer: Gazetteer | None = None) -> Extraction:
    """A copy of ``ex`` with geo on its entities, a country on its events and on the article.

    ``sentences``: (start, end) character bounds of the body's sentences, in order;
    ``dateline``: the span of the dateline city in ``text``, if any.
    """
    gaz = gazetteer or default_gazetteer()
    dateline = dateline or dateline_span(text)  # also a wire's "TOKYO, Feb 27 - ..."
    names, index = _place_names(ex, dateline)
    if dateline is not None and not any(pn.dateline for pn in names):  # a dateline no entity holds
        city = text[dateline[0]:dateline[1]]
        names.append(PlaceName(city, "GPE", (city,), (dateline,), True))
    resolved = resolve_places(gaz, names, text)
    geo = {i: r.place for i, r in zip(index, resolved, strict=False)}  # the extra dateline name: no entity
    entities = [replace(e, geo=geo.get(i)) if geo.get(i) else e for i, e in enumerate(ex.entities)]
    dateline_country = next((r.place.country for pn, r in zip(names, resolved, strict=True)
                             if pn.dateline and r.place is not None), None)
    events = [_event(ev, entities, sentences, dateline_country) for ev in ex.events]
    return replace(ex, entities=entities, events=events, country=article_country(names, resolved))


def _event(ev: Event, entities: Sequence[Entity], sentences: Sequence[tuple[int, int]],
           dateline: str | None) -> Event:
    by_name = {e.name: e for e in entities}
    loc = by_name.get(ev.location.entity or "") if ev.location is not None else None
    own = loc.geo.country if loc is not None and loc.geo is not None else None
    starts = [s for s, _ in sentences]
    k = bisect.bisect_right(starts, ev.trigger.start) - 1
    lo, hi = sentences[k] if k >= 0 else (ev.trigger.start, ev.trigger.end)
    near: list[tuple[int, str | None]] = []
    for e in entities:
        if e.geo is None or e.label == "NORP":
            continue
        near += [(abs(m.start - ev.trigger.start), e.geo.country) for m in e.mentions
                 if m.field == "body" and lo <= m.start < hi]
    return replace(ev, country=event_country(own, [c for _, c in sorted(near, key=lambda t: t[0])], dateline))
