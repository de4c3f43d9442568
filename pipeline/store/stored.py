"""Read stored articles back as Articles, for reprocessing after an extractor upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.article import STORED_FIELDS, Article
from pipeline.store.db import translate_errors
from pipeline.store.models import articles
from pipeline.store.writer import Position

ARTICLE_FIELDS = STORED_FIELDS  # the Article fields with a column of their own (pipeline.article.FIELD_META)


def _where(since: date | None, source: str | None, not_version: str | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if since is not None:
        conds.append(articles.c.published_date >= since)
    if source is not None:
        conds.append(sa.func.lower(articles.c.source) == source.lower())
    if not_version is not None:
        conds.append(articles.c.extractor_version != not_version)
    return conds


def count_articles(engine: Engine, *, since: date | None = None, source: str | None = None,
                   not_version: str | None = None) -> int:
    q = sa.select(sa.func.count()).select_from(articles).where(*_where(since, source, not_version))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return int(conn.scalar(q) or 0)


def iter_articles(engine: Engine, *, since: date | None = None, source: str | None = None,
                  not_version: str | None = None, chunk: int = 200) -> Iterator[tuple[Article, Position | None]]:
    """Stored articles (oldest id first, in chunks by keyset) with the Kafka position they came from."""
    cols = [articles.c[f] for f in ARTICLE_FIELDS]
    pos = [articles.c.kafka_topic, articles.c.kafka_partition, articles.c.kafka_offset]
    last = ""
    while True:
        q = (sa.select(*cols, *pos).where(articles.c.id > last, *_where(since, source, not_version))
             .order_by(articles.c.id).limit(chunk))
        with translate_errors(str(engine.url)), engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return
        for row in rows:
            data = {f: getattr(row, f) for f in ARTICLE_FIELDS}
            article = Article(**{k: v for k, v in data.items() if v is not None})
            topic, partition, offset = row.kafka_topic, row.kafka_partition, row.kafka_offset
            yield article, (Position(topic, partition, offset) if topic is not None else None)
        last = rows[-1].id
