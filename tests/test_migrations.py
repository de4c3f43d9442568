"""Alembic migrations on SQLite and PostgreSQL: round trip, and they match the models exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeline.store.db import current, downgrade, head, make_engine, upgrade
from pipeline.store.models import VIEWS, metadata
from tests.fixtures_pg import PgServer

TABLES = {"articles", "entities", "entity_aliases", "mentions", "events", "article_entities", "entity_stats",
          "places", "article_places", "stories", "story_merges", "story_events", "entity_labels", "entity_forms",
          "entity_label_history", "entity_merges"}
COUNTS = {"article_entities", "entity_stats"}  # 0004
PLACES = {"places", "article_places"}  # 0005
STORIES = {"stories", "story_merges", "story_events"}  # 0006
IDENTITY = {"entity_labels", "entity_forms", "entity_label_history", "entity_merges"}  # 0008


def schema(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        return set(insp.get_table_names()) - {"alembic_version"}, set(insp.get_view_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(blank_db_url: str) -> None:
    assert current(blank_db_url) is None
    assert upgrade(blank_db_url) == head()
    assert schema(blank_db_url) == (TABLES, set(VIEWS))
    assert downgrade(blank_db_url, "base") is None
    assert schema(blank_db_url) == (set(), set())
    assert current(blank_db_url) is None
    assert upgrade(blank_db_url, "head") == head()
    assert schema(blank_db_url) == (TABLES, set(VIEWS))
    assert current(blank_db_url) == head()


def test_one_step_down_removes_only_the_views(db_url: str) -> None:
    assert downgrade(db_url, "0001") == "0001"
    assert schema(db_url) == (TABLES - COUNTS - PLACES - STORIES - IDENTITY, set())
    assert upgrade(db_url) == head()


def test_migrations_match_the_models(db_url: str) -> None:
    def include_name(name: str | None, type_: str, _parents: object) -> bool:
        return not (type_ == "table" and name in (*VIEWS, "alembic_version"))

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name,
                                                         "target_metadata": metadata})
            diffs = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_migrated_schema_has_named_constraints_and_query_indexes(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        insp = sa.inspect(engine)
        indexes = {ix["name"] for t in TABLES for ix in insp.get_indexes(t)}
        uniques = {uq["name"] for t in TABLES for uq in insp.get_unique_constraints(t)}
        fks = {fk["name"]: fk for fk in insp.get_foreign_keys("mentions")}
    finally:
        engine.dispose()
    assert {"ix_mentions_entity_id_article_id", "ix_events_type", "ix_events_date",
            "ix_articles_published_date"} <= indexes
    assert {"uq_entities_name_label", "uq_mentions_article_id_field_start_end",
            "uq_events_article_id_seq"} <= uniques
    assert fks["fk_mentions_article_id_articles"]["options"].get("ondelete") == "CASCADE"


@pytest.mark.postgres
def test_covering_indexes_on_postgresql_include_what_the_models_say(pg_server: PgServer) -> None:
    """Alembic's compare ignores INCLUDE columns: the index-only scans of the queries depend on them."""

    def include(item: object) -> list[str]:
        return list(item.dialect_options["postgresql"]["include"] or [])  # type: ignore[attr-defined]

    want = {(t.name, ix.name): include(ix) for t in metadata.sorted_tables for ix in t.indexes}
    want |= {(t.name, "PK"): include(t.primary_key) for t in metadata.sorted_tables}
    url = pg_server.create_database("covering")
    try:
        upgrade(url)
        engine = make_engine(url)
        try:
            insp = sa.inspect(engine)
            got = {(t.name, ix["name"]): ix.get("dialect_options", {}).get("postgresql_include", [])
                   for t in metadata.sorted_tables for ix in insp.get_indexes(t.name)}
            got |= {(t.name, "PK"): insp.get_pk_constraint(t.name).get("dialect_options", {})
                    .get("postgresql_include", []) for t in metadata.sorted_tables}
        finally:
            engine.dispose()
    finally:
        pg_server.drop_database("covering")
    assert {key: got.get(key, "missing") for key in want} == want
    assert {k[1]: v for k, v in want.items() if k[0] == "article_entities"} == {
        "ix_article_entities_entity_id_published_date": ["article_id", "mentions"],
        "ix_article_entities_published_date_entity_id": ["mentions"], "PK": ["mentions"]}
