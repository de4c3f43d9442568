"""article_entities and entity_stats on SQLite and PostgreSQL: exact after every write, backfilled by
migration 0004, rebuilt by rebuild_counts; each time equal to a GROUP BY over the mentions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from pipeline.article import Article
from pipeline.records import Extraction
from pipeline.store.counts import rebuild_counts
from pipeline.store.db import downgrade, head, upgrade
from pipeline.store.models import article_entities, articles, entities, entity_stats, mentions
from pipeline.store.query import Period, timeline, top_entities
from pipeline.store.writer import write_batch
from tests.test_query_api import decoy, markets
from tests.test_store_writer import V1, entity, kyiv, make_article, minsk, write_in_lockstep

Counts = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def from_mentions(engine: sa.Engine) -> Counts:
    """(article_entities rows, entity_stats rows) as a GROUP BY over ``mentions`` gives them."""
    m = mentions.c
    with engine.connect() as conn:
        pairs = sorted(tuple(r) for r in conn.execute(
            sa.select(m.article_id, m.entity_id, articles.c.published_date, sa.func.count())
            .join(articles, articles.c.id == m.article_id)
            .group_by(m.article_id, m.entity_id, articles.c.published_date)))
        totals = sorted(tuple(r) for r in conn.execute(
            sa.select(m.entity_id, sa.func.count(), sa.func.count(sa.distinct(m.article_id)))
            .group_by(m.entity_id)))
    return pairs, totals


def stored(engine: sa.Engine) -> Counts:
    ae, es = article_entities.c, entity_stats.c
    with engine.connect() as conn:
        pairs = sorted(tuple(r) for r in conn.execute(
            sa.select(ae.article_id, ae.entity_id, ae.published_date, ae.mentions)))
        totals = sorted(tuple(r) for r in conn.execute(sa.select(es.entity_id, es.mentions, es.articles)))
    return pairs, totals


def stats_of(engine: sa.Engine, name: str) -> tuple[int, int] | None:
    """(mentions, articles) of the entity called ``name`` in entity_stats; None without a row."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(entity_stats.c.mentions, entity_stats.c.articles)
                           .join(entities, entities.c.id == entity_stats.c.entity_id)
                           .where(entities.c.name == name)).first()
    return (row[0], row[1]) if row else None


def four_articles() -> list[tuple[Article, Extraction, None]]:
    return [(*minsk(), None), (*kyiv(), None), (*markets(), None), (*decoy(), None)]


def test_counts_follow_new_rewritten_unchanged_and_shrinking_articles(engine: sa.Engine) -> None:
    write_batch(engine, four_articles(), extractor_version=V1)
    assert stored(engine) == from_mentions(engine)
    assert stats_of(engine, "Alexander Lukashenko") == (3, 2)
    assert stats_of(engine, "Minsk") == (3, 3)

    # re-extraction of the Minsk article: Minsk is dropped, Putin's mention is listed twice (one span)
    a, x = minsk()
    putin = x.entities[1]
    x2 = Extraction(entities=[x.entities[0], replace(putin, mentions=[*putin.mentions, putin.mentions[0]])],
                    events=x.events)
    stats = write_batch(engine, [(a, x2, None)], extractor_version="test-extractor-2")
    assert stats.articles == 1
    assert stored(engine) == from_mentions(engine)
    assert stats_of(engine, "Minsk") == (2, 2)  # markets and decoy are left
    assert stats_of(engine, "Vladimir Putin") == (2, 2)  # counted as stored: the span once

    # the same batch again: nothing is written, nothing is counted twice
    before = stored(engine)
    assert write_batch(engine, [(a, x2, None)], extractor_version="test-extractor-2").unchanged == 1
    assert stored(engine) == before

    # the Kyiv article moves to another day and loses Zelensky, its only mention anywhere
    k = make_article("Lukashenko warned Kyiv on Monday. Zelensky rejected the warning.",
                     url="https://news.example/kyiv", published="2024-05-02")
    ky = Extraction(entities=[entity(k, "Lukashenko", "PERSON"), entity(k, "Kyiv", "GPE")])
    write_batch(engine, [(k, ky, None)], extractor_version=V1)
    assert stored(engine) == from_mentions(engine)
    assert stats_of(engine, "Zelensky") is None  # no row for an entity without mentions
    assert "Zelensky" not in [r["name"] for r in top_entities(engine)]
    assert timeline(engine, "kyiv") == [{"day": "2024-05-02", "mentions": 1, "articles": 1}]
    assert top_entities(engine, period=Period(date(2024, 5, 1), date(2024, 5, 31))) == [
        {"name": "Alexander Lukashenko", "label": "PERSON", "mentions": 1, "articles": 1},
        {"name": "Kyiv", "label": "GPE", "mentions": 1, "articles": 1}]


def test_counts_in_one_batch_follow_the_later_copy_of_an_article(engine: sa.Engine) -> None:
    a, x = minsk()
    write_batch(engine, [(a, x, None), (*kyiv(), None), (a, Extraction(entities=x.entities[2:]), None)],
                extractor_version=V1)
    assert stored(engine) == from_mentions(engine)
    assert stats_of(engine, "Minsk") == (1, 1)
    assert stats_of(engine, "Lukashenko") == (1, 1)  # the Kyiv article's; the first copy never counted
    assert stats_of(engine, "Vladimir Putin") is None


def test_concurrent_rewrites_of_the_same_articles_keep_the_counts_exact(engine: sa.Engine) -> None:
    """Two workers rewrite the same articles with different extractions, and add articles of their own."""
    rounds = 8

    def batch(worker: int, round_: int) -> list[tuple[Article, Extraction, None]]:
        out = []
        for k, (a, x) in enumerate((minsk(), kyiv(), markets())):
            keep = (worker + round_ + k) % len(x.entities) + 1  # a different subset of entities each time
            out.append((a, Extraction(entities=x.entities[:keep], events=x.events), None))
        own = make_article(f"Worker {worker} round {round_}: Putin met Lukashenko in Minsk.",
                           url=f"https://news.example/w{worker}/{round_}")
        out.append((own, Extraction(entities=[entity(own, "Vladimir Putin", "PERSON", "Putin"),
                                              entity(own, "Minsk", "GPE")]), None))
        return out

    write_in_lockstep(engine, batch, rounds, version=lambda worker, round_: f"v{worker}-{round_}")
    assert stored(engine) == from_mentions(engine)
    assert (stats_of(engine, "Minsk") or (0, 0))[1] >= 2 * rounds  # every worker's own articles count


def test_migration_0004_backfills_the_counts_of_a_database_filled_before(db_url: str, engine: sa.Engine) -> None:
    write_batch(engine, four_articles(), extractor_version=V1)
    a, x = minsk()
    write_batch(engine, [(a, Extraction(entities=x.entities[1:]), None)], extractor_version="test-extractor-2")
    expected = from_mentions(engine)

    def daily() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT entity_id, name, label, day, mention_count FROM entity_daily_mentions"))
            return sorted((tuple(r) for r in rows), key=lambda r: (r[0], str(r[3])))  # day None: undated articles

    view = daily()
    engine.dispose()
    assert downgrade(db_url, "0003") == "0003"
    assert not {"article_entities", "entity_stats"} & set(sa.inspect(engine).get_table_names())
    assert daily() == view  # the view of 0002, over the mentions
    engine.dispose()
    assert upgrade(db_url) == head()
    assert stored(engine) == expected
    assert daily() == view  # the view of 0004, over article_entities: the same rows
    assert stats_of(engine, "Minsk") == (3, 3)


def test_rebuild_counts_repairs_rows_changed_by_hand(engine: sa.Engine) -> None:
    write_batch(engine, four_articles(), extractor_version=V1)
    k, _x = kyiv()
    with engine.begin() as conn:  # an analyst's clean-up, behind the writer's back
        conn.execute(mentions.delete().where(mentions.c.text == "Minsk"))
        conn.execute(articles.delete().where(articles.c.id == k.id))  # its article_entities rows go with it
        conn.execute(entity_stats.update().values(mentions=entity_stats.c.mentions + 100))
    assert stored(engine) != from_mentions(engine)
    assert top_entities(engine, top=1)[0]["mentions"] > 100

    done = rebuild_counts(engine)
    pairs, totals = from_mentions(engine)
    assert stored(engine) == (pairs, totals)
    assert (done.article_entities, done.entity_stats) == (len(pairs), len(totals)) == (3, 2)
    assert stats_of(engine, "Minsk") is None
    assert stats_of(engine, "Zelensky") is None
    assert top_entities(engine) == [
        {"name": "Alexander Lukashenko", "label": "PERSON", "mentions": 2, "articles": 1},
        {"name": "Vladimir Putin", "label": "PERSON", "mentions": 2, "articles": 2}]
    assert rebuild_counts(engine) == done  # again: the same
    assert stored(engine) == (pairs, totals)
