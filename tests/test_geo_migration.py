"""Migration 0005 (places): upgrade, downgrade and upgrade again, on SQLite and PostgreSQL, keeping the data."""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.store.db import downgrade, make_engine, upgrade
from pipeline.store.models import VIEWS

PLACES = {"places", "article_places"}


def layout(url: str) -> tuple[set[str], set[str], set[str], set[str]]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        return (set(insp.get_table_names()), {c["name"] for c in insp.get_columns("articles")},
                {c["name"] for c in insp.get_columns("events")}, set(insp.get_view_names()))
    finally:
        engine.dispose()


def test_0005_round_trip_adds_and_removes_only_the_places(blank_db_url: str) -> None:
    assert upgrade(blank_db_url, "0004") == "0004"
    engine = make_engine(blank_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO articles (id, body, authors, subheadings, captions, extractor_version, "
                             "content_hash) VALUES ('a1', 'Text.', '[]', '[]', '[]', 'v', 'h')"))
    engine.dispose()
    before = layout(blank_db_url)
    assert not PLACES & before[0] and "country" not in before[1] | before[2]
    assert upgrade(blank_db_url, "0005") == "0005"
    tables, art, ev, views = layout(blank_db_url)
    assert tables >= PLACES and "country" in art and "country" in ev and views == set(VIEWS)
    assert downgrade(blank_db_url, "0004") == "0004"
    assert layout(blank_db_url) == before  # the views of 0002/0004 untouched
    assert upgrade(blank_db_url, "0005") == "0005"
    engine = make_engine(blank_db_url)
    with engine.connect() as conn:  # the article survived, with no country until it is reprocessed
        assert conn.execute(sa.text("SELECT id, country FROM articles")).all() == [("a1", None)]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM event_view")).scalar() == 0
    engine.dispose()
