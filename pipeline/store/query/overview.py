"""Read side: the demo's summary, one article with its entities and events, alias lookup.

SQLAlchemy Core with bound parameters only; the same results on SQLite and PostgreSQL.
Mentions per entity come from ``entity_stats`` (all-time totals, kept by the writer).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import articles, entities, entity_aliases, entity_stats, events, mentions
from pipeline.store.normalize import alias_key


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def summary(engine: Engine, top: int = 10) -> dict[str, Any]:
    """Counts, the ``top`` entities by mentions and the number of events per type.

    ``{"articles": n, "entities": n, "mentions": n, "events": n,
    "top_entities": [{"name", "label", "mentions", "articles"}...],  # most mentioned first
    "events_by_type": {"PROTEST": n, ...}}``  # most frequent first
    """
    top_q = (sa.select(entities.c.name, entities.c.label, entity_stats.c.mentions, entity_stats.c.articles)
             .join(entity_stats, entity_stats.c.entity_id == entities.c.id)  # all-time totals, kept by the writer
             .order_by(entity_stats.c.mentions.desc(), entities.c.name, entities.c.label)
             .limit(top))
    n_events = sa.func.count(events.c.id).label("n")
    types_q = (sa.select(events.c.type, n_events).group_by(events.c.type)
               .order_by(n_events.desc(), events.c.type))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return {
            "articles": _count(conn, articles),
            "entities": _count(conn, entities),
            "mentions": _count(conn, mentions),
            "events": _count(conn, events),
            "top_entities": [{"name": name, "label": label, "mentions": n, "articles": n_art}
                             for name, label, n, n_art in conn.execute(top_q)],
            "events_by_type": {t: n for t, n in conn.execute(types_q)},
        }


def get_article(engine: Engine, article_id: str) -> dict[str, Any] | None:
    """The stored article with ``mentions`` and ``events`` (entity names resolved), or None."""
    actor, target, loc = entities.alias("actor"), entities.alias("target"), entities.alias("loc")
    ev_q = (sa.select(events, actor.c.name.label("actor"), target.c.name.label("target"),
                      loc.c.name.label("location"))
            .outerjoin(actor, actor.c.id == events.c.actor_id)
            .outerjoin(target, target.c.id == events.c.target_id)
            .outerjoin(loc, loc.c.id == events.c.location_id)
            .where(events.c.article_id == article_id).order_by(events.c.seq))
    m_q = (sa.select(mentions.c.field, mentions.c.start, mentions.c.end, mentions.c.text, mentions.c.sentence,
                     entities.c.id.label("entity_id"), entities.c.name.label("entity"), entities.c.label)
           .join(entities, entities.c.id == mentions.c.entity_id)
           .where(mentions.c.article_id == article_id)
           .order_by(mentions.c.field, mentions.c.start, mentions.c.end))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        row = conn.execute(sa.select(articles).where(articles.c.id == article_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["mentions"] = [dict(r) for r in conn.execute(m_q).mappings()]
        out["events"] = [dict(r) for r in conn.execute(ev_q).mappings()]
        return out


def resolve_entity(engine: Engine, name: str, label: str | None = None) -> dict[str, Any] | None:
    """The entity ``name`` refers to, through the alias table, case-insensitively.

    ``"lukashenko"`` -> ``{"id": 3, "name": "Alexander Lukashenko", "label": "PERSON", "mentions": 12}``.
    When the alias names entities of several labels and ``label`` is not given, the most
    mentioned one wins. None when nothing matches.
    """
    key = alias_key(name)
    if not key:
        return None
    n = sa.func.coalesce(entity_stats.c.mentions, 0)
    q = (sa.select(entities.c.id, entities.c.name, entities.c.label, n.label("mentions"))
         .join(entity_aliases, entity_aliases.c.entity_id == entities.c.id)
         .outerjoin(entity_stats, entity_stats.c.entity_id == entities.c.id)
         .where(entity_aliases.c.alias == key)
         .order_by(n.desc(), entities.c.id).limit(1))
    if label is not None:
        q = q.where(entity_aliases.c.label == label)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        row = conn.execute(q).mappings().first()
        return dict(row) if row else None
