"""Engines and database errors: SQLite settings, foreign keys, unreachable servers, missing schema."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from pipeline.errors import DatabaseUnavailable
from pipeline.store.db import SchemaMissing, current, make_engine, safe_url, upgrade
from pipeline.store.models import articles, events, mentions
from pipeline.store.query.overview import summary
from pipeline.store.writer import write_batch
from tests.fixtures_pg import PgServer
from tests.test_store_writer import V1, kyiv, minsk


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_deleting_an_article_deletes_its_mentions_and_events(engine: sa.Engine) -> None:
    write_batch(engine, [(*minsk(), None), (*kyiv(), None)], extractor_version=V1)
    a, _x = minsk()
    with engine.begin() as conn:
        conn.execute(articles.delete().where(articles.c.id == a.id))
    s = summary(engine)
    assert (s["articles"], s["mentions"], s["events"]) == (1, 3, 2)


def test_mentions_need_an_existing_article(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(mentions.insert().values(article_id="nope", entity_id=1, field="body", start=0, end=1,
                                              text="x"))


def test_unreachable_postgres_raises_database_unavailable_without_the_password() -> None:
    url = f"postgresql+psycopg://newsstream:hunter2-secret@127.0.0.1:{closed_port()}/news"
    engine = make_engine(url)
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            write_batch(engine, [(*minsk(), None)], extractor_version=V1)
    finally:
        engine.dispose()
    assert info.value.retriable
    assert "hunter2-secret" not in str(info.value) and "127.0.0.1" in str(info.value)
    with pytest.raises(DatabaseUnavailable, match="unavailable") as info2:
        upgrade(url)
    assert "hunter2-secret" not in str(info2.value)
    assert "hunter2-secret" not in safe_url(url)


def test_missing_schema_says_to_run_db_upgrade(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        with pytest.raises(SchemaMissing, match="newsstream db upgrade"):
            write_batch(engine, [(*minsk(), None)], extractor_version=V1)
    finally:
        engine.dispose()


def test_current_does_not_create_a_missing_sqlite_file(tmp_path) -> None:
    path = tmp_path / "typo.db"
    assert current(f"sqlite:///{path}") is None
    assert not path.exists()


@pytest.mark.postgres
def test_writer_recovers_after_the_server_restarts(pg_server: PgServer) -> None:
    url = pg_server.create_database("restart_test")
    upgrade(url)
    engine = make_engine(url)
    try:
        write_batch(engine, [(*minsk(), None)], extractor_version=V1)
        pg_server.stop()
        try:
            with pytest.raises(DatabaseUnavailable):
                write_batch(engine, [(*kyiv(), None)], extractor_version=V1)
        finally:
            pg_server.start()
        stats = write_batch(engine, [(*kyiv(), None)], extractor_version=V1)  # same engine, pool pre-ping
        assert stats.articles == 1
        assert summary(engine)["articles"] == 2  # the first write survived the crash-stop
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(events)) == 4
    finally:
        engine.dispose()
        pg_server.drop_database("restart_test")
