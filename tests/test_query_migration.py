"""Migration 0003 (query indexes) on SQLite and PostgreSQL: down to it, one step further, up again."""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.store.db import downgrade, head, make_engine, upgrade
from pipeline.store.models import VIEWS


def indexes(url: str) -> tuple[set[str], set[str], str]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        names = {ix["name"] for t in ("articles", "mentions") for ix in insp.get_indexes(t)}
        return names, set(insp.get_view_names()), engine.dialect.name
    finally:
        engine.dispose()


def test_0003_adds_the_query_indexes_and_downgrades_to_0002(db_url: str) -> None:
    assert head() >= "0004"
    assert downgrade(db_url, "0003") == "0003"
    names, views, dialect = indexes(db_url)
    assert "ix_mentions_article_id_entity_id" in names and views == set(VIEWS)
    trigram = {"ix_articles_title_trgm", "ix_articles_body_trgm"}
    assert (trigram <= names) == (dialect == "postgresql")  # pg_trgm is in the test server's contrib
    assert downgrade(db_url, "-1") == "0002"
    names, views, _ = indexes(db_url)
    assert not ({"ix_mentions_article_id_entity_id"} | trigram) & names
    assert "ix_mentions_entity_id_article_id" in names and views == set(VIEWS)  # 0001/0002 untouched
    assert upgrade(db_url, "0003") == "0003"
    assert "ix_mentions_article_id_entity_id" in indexes(db_url)[0]
    assert upgrade(db_url) == head()


def test_text_search_uses_the_trigram_index_on_postgresql(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        if engine.dialect.name != "postgresql":
            assert "ix_articles_body_trgm" not in {ix["name"] for ix in sa.inspect(engine).get_indexes("articles")}
            return
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: make the planner show its hand
            plan = "\n".join(conn.execute(sa.text("EXPLAIN SELECT id FROM articles WHERE body ILIKE :p"),
                                           {"p": "%hydrogen%"}).scalars())
    finally:
        engine.dispose()
    assert "ix_articles_body_trgm" in plan
