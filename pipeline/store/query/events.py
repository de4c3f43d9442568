"""``query events``: who did what to whom, by actor, target, type, modality and publication date."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import MODALITIES, articles, entities, events
from pipeline.store.query.filters import ANY_TIME, Period, entity_ids, newest

EVENT_COLUMNS = ["published", "type", "actor", "trigger", "target", "location", "event_date", "modality",
                 "negated", "article_id", "country", "sentence",
                 "family", "actor_sector", "target_sector", "source", "quote"]  # 0007: added last, for csv readers


def events_select() -> sa.Select[Any]:
    """Events with names instead of ids (the columns of EVENT_COLUMNS), joined to their article."""
    actor, target, loc = entities.alias("actor"), entities.alias("target"), entities.alias("loc")
    source = entities.alias("source")
    e = events.c
    return (sa.select(articles.c.published_date.label("published"), e.type,
                      sa.func.coalesce(actor.c.name, e.actor_text).label("actor"),
                      e.trigger_text.label("trigger"),
                      sa.func.coalesce(target.c.name, e.target_text).label("target"),
                      sa.func.coalesce(loc.c.name, e.location_text).label("location"),
                      e.date.label("event_date"), e.modality, e.negated, e.article_id, e.country,
                      e.sentence, e.family, e.actor_sector, e.target_sector,
                      sa.func.coalesce(source.c.name, e.source_text).label("source"), e.quote_text.label("quote"))
            .select_from(events)
            .join(articles, articles.c.id == e.article_id)
            .outerjoin(actor, actor.c.id == e.actor_id)
            .outerjoin(target, target.c.id == e.target_id)
            .outerjoin(loc, loc.c.id == e.location_id)
            .outerjoin(source, source.c.id == e.source_id))


def run_events(conn: sa.Connection, q: sa.Select[Any], limit: int) -> list[dict[str, Any]]:
    return newest(conn, q, articles.c.published_date, [events.c.article_id, events.c.seq], limit)


def search_events(engine: Engine, *, actor: str | None = None, target: str | None = None,
                  type_: str | None = None, family: str | None = None, sector: str | None = None,
                  modality: str | None = None, period: Period = ANY_TIME,
                  include_negated: bool = True, country: str | None = None, limit: int = 50,
                  with_seq: bool = False) -> list[dict[str, Any]]:
    """The newest events matching every filter given (combined with AND).

    ``actor`` / ``target``: names through the alias table; ``type_``: an event type (ARREST, PROTEST...),
    any case; ``family``: political, business, justice...; ``sector``: an unnamed actor's or target's
    agent sector (police, military...);
    ``modality``: asserted | hypothetical | reported; ``country``: ISO 3166 alpha-2, any case.
    ``actor``/``target``/``location`` show the
    entity's name, else the text the extractor saw. Raises UnknownEntity.
    """
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}")
    q = events_select().add_columns(events.c.seq) if with_seq else events_select()  # seq: for to_geojson
    with translate_errors(str(engine.url)), engine.connect() as conn:
        if actor is not None:
            q = q.where(events.c.actor_id.in_(entity_ids(conn, actor)))
        if target is not None:
            q = q.where(events.c.target_id.in_(entity_ids(conn, target)))
        if type_ is not None:
            q = q.where(events.c.type == type_.strip().upper())
        if family is not None:
            q = q.where(events.c.family == family.strip().lower())
        if sector is not None:
            wanted = sector.strip().lower()
            q = q.where(sa.or_(events.c.actor_sector == wanted, events.c.target_sector == wanted))
        if modality is not None:
            q = q.where(events.c.modality == modality)
        if country is not None:
            q = q.where(events.c.country == country.strip().upper())
        if not include_negated:
            q = q.where(events.c.negated.is_(False))
        q = q.where(*period.where())
        return run_events(conn, q, limit)


def event_types(engine: Engine) -> list[dict[str, Any]]:
    """The event types stored, most frequent first: ``[{"family", "type", "events"}...]``."""
    n = sa.func.count().label("events")
    q = (sa.select(events.c.family, events.c.type, n).group_by(events.c.family, events.c.type)
         .order_by(n.desc(), events.c.type))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
