"""``query articles``: articles by entity, source, section, publication date and text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import articles, mentions
from pipeline.store.query.filters import ANY_TIME, Period, contains, entity_ids, newest

WINDOWS = (7,)  # text search looks in the newest 7 days of the period before the whole period
ARTICLE_COLUMNS = ["published", "source", "section", "title", "id", "url"]


def search_articles(engine: Engine, *, entity: str | None = None, label: str | None = None,
                    source: str | None = None, section: str | None = None, period: Period = ANY_TIME,
                    text: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest articles matching every filter given (all optional, combined with AND).

    * ``entity``: mentions the entity (alias, case-insensitive; ``label`` narrows it);
    * ``source``: the publisher, exactly as stored; ``section``: case-insensitive substring;
    * ``text``: case-insensitive substring of the title or the body.

    Rows ``{"published", "source", "section", "title", "id", "url"}``, newest first
    (``published`` is the publication date, ``YYYY-MM-DD``). Raises UnknownEntity.
    """
    a = articles.c
    q = sa.select(a.published_date.label("published"), a.source, a.section, a.title, a.id, a.url)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        if entity is not None:
            ids = entity_ids(conn, entity, label)
            q = q.where(sa.exists().where(mentions.c.article_id == a.id, mentions.c.entity_id.in_(ids)))
        if source is not None:
            q = q.where(a.source == source)
        if section is not None:
            q = q.where(contains(conn, a.section, section))
        if text is not None:
            q = q.where(sa.or_(contains(conn, a.title, text), contains(conn, a.body, text)))
        if text is not None and entity is None:  # common words: the newest days hold enough matches
            for days in WINDOWS:
                rows = _in_recent_days(conn, q, period, days, limit)
                if rows is not None:
                    return rows
        return newest(conn, q.where(*period.where()), a.published_date, [a.id], limit)


def _in_recent_days(conn: sa.Connection, q: sa.Select[Any], period: Period, days: int,
                    limit: int) -> list[dict[str, Any]] | None:
    """The answer when the ``days`` newest days of ``period`` hold ``limit`` matches, else None.

    Every row outside that window is older than every row inside, so those rows are the newest.
    """
    newest_day = conn.scalar(sa.select(sa.func.max(articles.c.published_date)).where(*period.where()))
    if newest_day is None:
        return None
    start = newest_day - timedelta(days=days - 1)
    if period.since is not None and start <= period.since:
        return None  # the window is the whole period: one ordinary query
    rows = newest(conn, q.where(*Period(start, period.until).where()), articles.c.published_date,
                  [articles.c.id], limit)
    return rows if len(rows) >= limit else None
