"""Issue 16.7: a value too large for an index is refused per item with a reason, never an outage.

On the real PostgreSQL, a source of 10,000 characters is over the btree limit of the index on
``articles.source`` (ProgramLimitExceeded); it used to be classed "database unavailable", so the
worker paused for 300 s and crashed, again and again.
"""

from __future__ import annotations

import random
import string
import uuid

import pytest
import sqlalchemy as sa

from pipeline.article import Article
from pipeline.records import Entity, Extraction, Mention
from pipeline.retry import is_retriable
from pipeline.store import normalize
from pipeline.store.db import RefusedByDatabase, make_engine, translate_errors
from pipeline.store.models import articles
from pipeline.store.writer import Position, write_batch
from tests.fixtures_pg import PgServer

V1 = "test-extractor-1"


def noise(n: int, seed: int = 7) -> str:
    """Text that does not compress: PostgreSQL cannot squeeze it under the index limit."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def item(i: int, *, source: str = "test-wire", entity: str | None = None) -> tuple[Article, Extraction, Position]:
    body = f"Article number {i} says that Vilnius agreed a budget on Monday."
    art = Article.build(body=body, title=f"T{i}", url=f"https://news.example/{i}", source=source,
                        published="2024-03-01")
    name = entity or "Vilnius"
    ents = [Entity(name, "GPE", [Mention("Vilnius", body.index("Vilnius"), body.index("Vilnius") + 7, "body",
                                         sentence=None)])]
    return art, Extraction(entities=ents, events=[]), Position("news", 0, i)


def stored(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(articles.c.title)).scalars())
    finally:
        engine.dispose()


def test_a_source_of_10000_characters_is_refused_and_the_rest_of_the_batch_stored(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        stats = write_batch(engine, [item(0), item(1, source=noise(10_000)), item(2)], extractor_version=V1)
    finally:
        engine.dispose()
    assert [(r.index, r.position) for r in stats.rejected] == [(1, Position("news", 0, 1))]
    assert "source" in stats.rejected[0].reason and "indexed column" in stats.rejected[0].reason
    assert stats.articles == 2 and stored(db_url) == {"T0", "T2"}


def test_an_entity_name_too_large_for_its_index_is_refused_alone(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        stats = write_batch(engine, [item(0, entity="Vilnius " + noise(5_000)), item(1)], extractor_version=V1)
    finally:
        engine.dispose()
    assert [r.index for r in stats.rejected] == [0] and "entity 0: name" in stats.rejected[0].reason
    assert stored(db_url) == {"T1"}


@pytest.mark.postgres
def test_what_postgresql_itself_refuses_is_found_in_the_batch_and_refused_alone(
        pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the check before SQL, the database's own refusal still costs one item, not the batch."""
    monkeypatch.setattr(normalize, "MAX_INDEXED_BYTES", 10**9)
    name = f"oversized_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    try:
        from pipeline.store.db import upgrade

        upgrade(url)
        engine = make_engine(url)
        try:
            batch = [item(i) for i in range(7)]
            batch[4] = item(4, source=noise(10_000))
            stats = write_batch(engine, batch, extractor_version=V1)
        finally:
            engine.dispose()
        assert [r.index for r in stats.rejected] == [4]
        assert stats.rejected[0].reason.startswith("refused by the database: ")
        assert "index row" in stats.rejected[0].reason  # PostgreSQL's own words: index row size ... exceeds
        assert stats.articles == 6 and stored(url) == {f"T{i}" for i in range(7)} - {"T4"}
    finally:
        pg_server.drop_database(name)


@pytest.mark.postgres
def test_program_limit_exceeded_is_not_an_outage(pg_server: PgServer) -> None:
    name = f"oversized_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (v text)"))
            conn.execute(sa.text("CREATE INDEX ON t (v)"))
        with pytest.raises(sa.exc.OperationalError) as raw, engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": noise(10_000)})
        assert type(raw.value.orig).__name__ == "ProgramLimitExceeded"
        assert not is_retriable(raw.value)  # used to be True: OperationalError
        with pytest.raises(RefusedByDatabase) as ours, translate_errors(url), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": noise(10_000)})
        assert not is_retriable(ours.value) and "index row" in str(ours.value)
    finally:
        engine.dispose()
        pg_server.drop_database(name)
