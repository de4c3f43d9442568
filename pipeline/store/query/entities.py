"""``query entities / entity / cooccurrence / timeline``: who is in the news, with whom, and when."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import articles, entities, entity_aliases, events, mentions
from pipeline.store.query.events import events_select, run_events
from pipeline.store.query.filters import ANY_TIME, Period, for_aggregates, iso, resolve_names

ENTITY_COLUMNS = ["name", "label", "mentions", "articles"]
TIMELINE_COLUMNS = ["day", "mentions", "articles"]
ALIAS_COLUMNS = ["alias", "label", "entity"]


def _rows(conn: sa.Connection, q: Any) -> list[dict[str, Any]]:
    return [{k: iso(v) for k, v in r.items()} for r in conn.execute(q).mappings()]


def _mentions_in(period: Period) -> Any:
    """``mentions`` joined to ``articles`` when the period needs the publication date."""
    if period.open:
        return mentions
    return mentions.join(articles, articles.c.id == mentions.c.article_id)


def _per_entity(pairs: sa.Select[Any]) -> Any:
    """(entity_id, article_id, n) -> (entity_id, mentions, articles): two hash aggregates, no DISTINCT."""
    p = pairs.subquery("pairs")
    mentions_sum = sa.cast(sa.func.sum(p.c.n), sa.Integer).label("mentions")
    return (sa.select(p.c.entity_id, mentions_sum, sa.func.count().label("articles"))
            .group_by(p.c.entity_id).subquery("c"))


def top_entities(engine: Engine, *, period: Period = ANY_TIME, label: str | None = None,
                 top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` entities by mentions in articles published in ``period``, of ``label`` when given.

    Rows ``{"name", "label", "mentions", "articles"}``, most mentioned first (ties: by name).
    """
    m = mentions.c
    in_label = m.entity_id.in_(sa.select(entities.c.id).where(entities.c.label == (label or "").upper()))
    if period.open:  # every mention: one ordered pass over ix_mentions_entity_id_article_id
        counts = (sa.select(m.entity_id, sa.func.count().label("mentions"),
                            sa.func.count(sa.distinct(m.article_id)).label("articles")).group_by(m.entity_id))
        c = (counts.where(in_label) if label else counts).subquery("c")
    else:  # the period's articles, then (entity, article) pairs: two hash aggregates, no DISTINCT
        pairs = (sa.select(m.entity_id, m.article_id, sa.func.count().label("n"))
                 .select_from(_mentions_in(period)).where(*period.where()).group_by(m.entity_id, m.article_id))
        c = _per_entity(pairs.where(in_label) if label else pairs)
    q = (sa.select(entities.c.name, entities.c.label, c.c.mentions, c.c.articles)
         .join(c, c.c.entity_id == entities.c.id)
         .order_by(c.c.mentions.desc(), entities.c.name, entities.c.label).limit(top))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        for_aggregates(conn, memory=not period.open)
        return _rows(conn, q)


def _timeline(conn: sa.Connection, ids: list[int], period: Period) -> list[dict[str, Any]]:
    day = articles.c.published_date
    q = (sa.select(day.label("day"), sa.func.count().label("mentions"),
                   sa.func.count(sa.distinct(mentions.c.article_id)).label("articles"))
         .select_from(mentions.join(articles, articles.c.id == mentions.c.article_id))
         .where(mentions.c.entity_id.in_(ids), day.is_not(None), *period.where())
         .group_by(day).order_by(day))
    return _rows(conn, q)


def _cooccurring(conn: sa.Connection, ids: list[int], period: Period, top: int,
                 label: str | None = None) -> list[dict[str, Any]]:
    own = (sa.select(mentions.c.article_id).select_from(_mentions_in(period))
           .where(mentions.c.entity_id.in_(ids), *period.where()))
    other = mentions.alias("other")
    pairs = (sa.select(other.c.entity_id, other.c.article_id, sa.func.count().label("n"))
             .where(other.c.article_id.in_(own), other.c.entity_id.not_in(ids))
             .group_by(other.c.entity_id, other.c.article_id))
    if label:
        pairs = pairs.where(other.c.entity_id.in_(sa.select(entities.c.id).where(entities.c.label == label.upper())))
    c = _per_entity(pairs)
    q = (sa.select(entities.c.name, entities.c.label, c.c.articles, c.c.mentions)
         .join(c, c.c.entity_id == entities.c.id)
         .order_by(c.c.articles.desc(), c.c.mentions.desc(), entities.c.name, entities.c.label).limit(top))
    return _rows(conn, q)


def timeline(engine: Engine, name: str, *, label: str | None = None,
             period: Period = ANY_TIME) -> list[dict[str, Any]]:
    """Mentions of NAME per publication day: ``{"day", "mentions", "articles"}``, oldest first.

    Days without a mention are left out, and so are articles without a publication date.
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        ids = [e["id"] for e in resolve_names(conn, name, label)]
        return _timeline(conn, ids, period)


def cooccurrence(engine: Engine, name: str, *, label: str | None = None, period: Period = ANY_TIME,
                 top: int = 20, other_label: str | None = None) -> list[dict[str, Any]]:
    """The entities most often in the same articles as NAME: ``{"name", "label", "articles", "mentions"}``.

    ``articles``: articles both appear in; ``mentions``: the other entity's mentions there.
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        for_aggregates(conn)
        ids = [e["id"] for e in resolve_names(conn, name, label)]
        return _cooccurring(conn, ids, period, top, other_label)


def entity_profile(engine: Engine, name: str, *, label: str | None = None, period: Period = ANY_TIME,
                   top: int = 10, recent: int = 10) -> dict[str, Any]:
    """Everything about NAME: the entities it names, their aliases, timeline, company and events.

    ``{"query", "entities": [{"id", "name", "label", "mentions"}], "aliases": [{"alias", "label",
    "entity"}], "timeline": [...], "cooccurring": [...], "recent_events": [...]}`` (events in which
    it is the actor or the target, newest first).
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        for_aggregates(conn)
        found = resolve_names(conn, name, label)
        ids = [e["id"] for e in found]
        aliases = _rows(conn, sa.select(entity_aliases.c.alias, entity_aliases.c.label,
                                        entities.c.name.label("entity"))
                        .join(entities, entities.c.id == entity_aliases.c.entity_id)
                        .where(entity_aliases.c.entity_id.in_(ids))
                        .order_by(entities.c.name, entity_aliases.c.label, entity_aliases.c.alias))
        ev = events_select().where(sa.or_(events.c.actor_id.in_(ids), events.c.target_id.in_(ids)),
                                   *period.where())
        return {"query": name, "entities": found, "aliases": aliases,
                "timeline": _timeline(conn, ids, period),
                "cooccurring": _cooccurring(conn, ids, period, top),
                "recent_events": run_events(conn, ev, recent)}
