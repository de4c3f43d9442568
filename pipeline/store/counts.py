"""The counts derived from ``mentions``: ``article_entities`` and ``entity_stats``, and how to rebuild them.

The writer keeps both tables exact as it writes (``pipeline.store.writer``), with
:func:`fill_article_entities` for the articles of a batch. Rows deleted or changed by hand
(``DELETE FROM mentions ...``, ``DELETE FROM articles ...``, a changed ``published_date``) leave
them behind: :func:`rebuild_counts` (``newsstream db rebuild-counts``) recomputes them from
``mentions`` and ``articles``.

:func:`fill_article_entities` and :func:`fill_entity_stats` are also the backfill of migration
0004. They must keep working on the 0004 schema: a later migration that changes the columns they
read or write must give 0004 its own copy of them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import IMMEDIATE, translate_errors
from pipeline.store.models import article_entities, articles, entity_stats, mentions


def fill_article_entities(article_ids: Sequence[str] | None = None) -> Any:
    """``INSERT INTO article_entities SELECT ...``: one row per (article, entity) of ``mentions``.

    Every article, or only ``article_ids`` (which must have no rows in article_entities yet).
    """
    m = mentions.c
    pairs = (sa.select(m.article_id, m.entity_id, articles.c.published_date, sa.func.count())
             .join(articles, articles.c.id == m.article_id)
             .group_by(m.article_id, m.entity_id, articles.c.published_date))
    if article_ids is not None:  # on both tables: PostgreSQL does not carry an IN list across the join
        pairs = pairs.where(m.article_id.in_(article_ids), articles.c.id.in_(article_ids))
    return article_entities.insert().from_select(["article_id", "entity_id", "published_date", "mentions"], pairs)


def fill_entity_stats() -> Any:
    """``INSERT INTO entity_stats SELECT ...``: every entity's totals, from a filled ``article_entities``."""
    ae = article_entities.c
    totals = sa.select(ae.entity_id, sa.func.sum(ae.mentions), sa.func.count()).group_by(ae.entity_id)
    return entity_stats.insert().from_select(["entity_id", "mentions", "articles"], totals)


@dataclass(frozen=True)
class Rebuilt:
    article_entities: int  # (article, entity) rows written
    entity_stats: int  # entities with at least one mention


def rebuild_counts(engine: Engine) -> Rebuilt:
    """Empty ``article_entities`` and ``entity_stats`` and fill them again from ``mentions``, in ONE transaction.

    Readers see the old counts until it commits. On PostgreSQL both tables are locked first
    (``EXCLUSIVE``: reads go on, writers wait), so a batch written at the same time is counted
    exactly once; on SQLite the write lock does the same. PostgreSQL then gets ``VACUUM ANALYZE``
    of both tables: the queries' index-only scans need the visibility map of the new rows.
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":  # the writer's order: article_entities, then entity_stats
                conn.exec_driver_sql("LOCK TABLE article_entities, entity_stats IN EXCLUSIVE MODE")
            conn.exec_driver_sql("DELETE FROM entity_stats")
            conn.exec_driver_sql("DELETE FROM article_entities")
            counted = {"preserve_rowcount": True}  # rows inserted by INSERT ... SELECT (not kept by default)
            pairs = conn.execute(fill_article_entities(), execution_options=counted).rowcount
            stats = conn.execute(fill_entity_stats(), execution_options=counted).rowcount
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
            conn.exec_driver_sql("VACUUM ANALYZE article_entities, entity_stats")
    return Rebuilt(article_entities=pairs, entity_stats=stats)
