"""``query entities / entity / cooccurrence / timeline``: who is in the news, with whom, and when."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import (
    article_entities,
    articles,
    entities,
    entity_aliases,
    entity_label_history,
    entity_merges,
    entity_stats,
    events,
)
from pipeline.store.query.events import events_select, run_events
from pipeline.store.query.filters import ANY_TIME, Period, for_aggregates, iso, resolve_names

ENTITY_COLUMNS = ["name", "label", "mentions", "articles"]
TIMELINE_COLUMNS = ["day", "mentions", "articles"]
ALIAS_COLUMNS = ["alias", "label", "entity"]
LABEL_HISTORY_COLUMNS = ["entity", "old_label", "new_label", "votes", "article_id", "changed_at"]
MERGE_COLUMNS = ["old_name", "old_label", "old_id", "entity", "reason", "article_id", "merged_at"]


def _rows(conn: sa.Connection, q: Any) -> list[dict[str, Any]]:
    return [{k: iso(v) for k, v in r.items()} for r in conn.execute(q).mappings()]


def _total(column: Any) -> Any:
    """SUM of an integer column, cast to INTEGER (on PostgreSQL a SUM of a SUM would be NUMERIC: a Decimal)."""
    return sa.cast(sa.func.sum(column), sa.Integer)


def _of_label(column: Any, label: str) -> Any:
    return column.in_(sa.select(entities.c.id).where(entities.c.label == label.upper()))


def top_entities(engine: Engine, *, period: Period = ANY_TIME, label: str | None = None,
                 top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` entities by mentions in articles published in ``period``, of ``label`` when given.

    Rows ``{"name", "label", "mentions", "articles"}``, most mentioned first (ties: by name).
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        for_aggregates(conn)
        if period.open:  # all-time totals, kept by the writer: no mention is read
            c = sa.select(entity_stats.c.entity_id, entity_stats.c.mentions, entity_stats.c.articles).subquery("c")
        elif _mostly_inside(conn, period):
            c = _all_but_outside(period)
        else:  # the period's (article, entity) rows: one hash aggregate, no DISTINCT
            ae = article_entities.c
            counts = (sa.select(ae.entity_id, _total(ae.mentions).label("mentions"),
                                sa.func.count().label("articles"))
                      .where(*period.where(ae.published_date)).group_by(ae.entity_id))
            c = (counts.where(_of_label(ae.entity_id, label)) if label else counts).subquery("c")
        q = (sa.select(entities.c.name, entities.c.label, c.c.mentions, c.c.articles)
             .join(c, c.c.entity_id == entities.c.id)
             .order_by(c.c.mentions.desc(), entities.c.name, entities.c.label).limit(top))
        if label:
            q = q.where(entities.c.label == label.upper())
        return _rows(conn, q)


def _mostly_inside(conn: sa.Connection, period: Period) -> bool:
    """Whether most articles lie inside ``period`` (two counts over the publication-date index)."""
    inside = conn.scalar(sa.select(sa.func.count()).select_from(articles).where(*period.where()))
    return 2 * int(inside or 0) > int(conn.scalar(sa.select(sa.func.count()).select_from(articles)) or 0)


def _all_but_outside(period: Period) -> Any:
    """Per entity: the all-time totals minus the (article, entity) rows outside ``period``.

    Exact, because ``entity_stats`` is the sum of ``article_entities`` (the writer keeps both in one
    transaction), and cheaper than the period's own rows when those are the majority: a period that
    covers everything reads almost nothing. Rows without a publication date are outside any period.
    """
    ae, s = article_entities.c, entity_stats.c
    outside: list[Any] = [ae.published_date.is_(None)]
    if period.since is not None:
        outside.append(ae.published_date < period.since)
    if period.until is not None:
        outside.append(ae.published_date > period.until)
    # disjoint ranges, one index-only scan each (an OR of them makes PostgreSQL visit the table)
    rows = sa.union_all(*(sa.select(ae.entity_id, ae.mentions).where(cond) for cond in outside)).subquery("x")
    out = (sa.select(rows.c.entity_id, _total(rows.c.mentions).label("mentions"), sa.func.count().label("articles"))
           .group_by(rows.c.entity_id).subquery("o"))
    in_articles = s.articles - sa.func.coalesce(out.c.articles, 0)
    return (sa.select(s.entity_id, (s.mentions - sa.func.coalesce(out.c.mentions, 0)).label("mentions"),
                      in_articles.label("articles"))
            .select_from(entity_stats.outerjoin(out, out.c.entity_id == s.entity_id))
            .where(in_articles > 0).subquery("c"))


def _timeline(conn: sa.Connection, ids: list[int], period: Period) -> list[dict[str, Any]]:
    ae = article_entities.c
    per_article = (sa.select(ae.published_date.label("day"), ae.article_id, _total(ae.mentions).label("n"))
                   .where(ae.entity_id.in_(ids), ae.published_date.is_not(None), *period.where(ae.published_date))
                   .group_by(ae.published_date, ae.article_id)  # an article naming two of the ids counts once
                   .subquery("p"))
    p = per_article.c
    q = (sa.select(p.day, _total(p.n).label("mentions"), sa.func.count().label("articles"))
         .group_by(p.day).order_by(p.day))
    return _rows(conn, q)


def _undated(conn: sa.Connection, ids: list[int]) -> dict[str, int]:
    """Mentions of ``ids`` in articles without a publication date, which no timeline day holds."""
    ae = article_entities.c
    per_article = (sa.select(ae.article_id, _total(ae.mentions).label("n"))
                   .where(ae.entity_id.in_(ids), ae.published_date.is_(None))
                   .group_by(ae.article_id).subquery("u"))
    row = conn.execute(sa.select(_total(per_article.c.n), sa.func.count()).select_from(per_article)).one()
    return {"mentions": int(row[0] or 0), "articles": int(row[1] or 0)}


def _cooccurring(conn: sa.Connection, ids: list[int], period: Period, top: int,
                 label: str | None = None) -> list[dict[str, Any]]:
    ae = article_entities.c
    own = sa.select(ae.article_id).where(ae.entity_id.in_(ids), *period.where(ae.published_date))
    other = article_entities.alias("other")
    counts = (sa.select(other.c.entity_id, _total(other.c.mentions).label("mentions"),
                        sa.func.count().label("articles"))
              .where(other.c.article_id.in_(own), other.c.entity_id.not_in(ids))
              .group_by(other.c.entity_id))
    c = (counts.where(_of_label(other.c.entity_id, label)) if label else counts).subquery("c")
    q = (sa.select(entities.c.name, entities.c.label, c.c.articles, c.c.mentions)
         .join(c, c.c.entity_id == entities.c.id)
         .order_by(c.c.articles.desc(), c.c.mentions.desc(), entities.c.name, entities.c.label).limit(top))
    return _rows(conn, q)


def timeline(engine: Engine, name: str, *, label: str | None = None,
             period: Period = ANY_TIME) -> list[dict[str, Any]]:
    """Mentions of NAME per publication day: ``{"day", "mentions", "articles"}``, oldest first.

    Days without a mention are left out, and so are articles without a publication date
    (:func:`undated` counts those).
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        ids = [e["id"] for e in resolve_names(conn, name, label)]
        return _timeline(conn, ids, period)


def undated(engine: Engine, name: str, *, label: str | None = None) -> dict[str, int]:
    """NAME's mentions in articles without a publication date: ``{"mentions", "articles"}``.

    They are in no timeline day and in no period, but in the all-time totals of ``top_entities``.
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return _undated(conn, [e["id"] for e in resolve_names(conn, name, label)])


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
    "entity"}], "label_history": [{"entity", "old_label", "new_label", "votes", "article_id", "changed_at"}],
    "merges": [{"old_name", "old_label", "old_id", "entity", "reason", "article_id", "merged_at"}],
    "timeline": [...], "undated": {"mentions", "articles"}, "cooccurring": [...],
    "recent_events": [...]}`` (events in which it is the actor or the target, newest first;
    ``undated``: the mentions in articles without a date, which the timeline leaves out; zero
    when a period is given, since those articles are in none).
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
        h, mg = entity_label_history.c, entity_merges.c
        history = _rows(conn, sa.select(entities.c.name.label("entity"), h.old_label, h.new_label, h.votes,
                                        h.article_id, h.changed_at)
                        .join(entities, entities.c.id == h.entity_id).where(h.entity_id.in_(ids))
                        .order_by(h.entity_id, h.id))
        merges = _rows(conn, sa.select(mg.old_name, mg.old_label, mg.old_id, entities.c.name.label("entity"),
                                       mg.reason, mg.article_id, mg.merged_at)
                       .join(entities, entities.c.id == mg.new_id).where(mg.new_id.in_(ids))
                       .order_by(mg.new_id, mg.id))
        return {"query": name, "entities": found, "aliases": aliases, "label_history": history, "merges": merges,
                "timeline": _timeline(conn, ids, period),
                "undated": _undated(conn, ids) if period.open else {"mentions": 0, "articles": 0},
                "cooccurring": _cooccurring(conn, ids, period, top),
                "recent_events": run_events(conn, ev, recent)}
