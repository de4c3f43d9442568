"""Read side on SQLite and PostgreSQL: summary, get_article, resolve_entity and the analyst views."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pipeline.store.models import articles
from pipeline.store.query.overview import get_article, resolve_entity, summary
from pipeline.store.writer import Position, write_batch
from tests.test_store_writer import V1, kyiv, minsk


def load(engine: sa.Engine) -> None:
    write_batch(engine, [(*minsk(), Position("news", 0, 3)), (*kyiv(), None)], extractor_version=V1)


def test_summary_counts_top_entities_and_event_types(engine: sa.Engine) -> None:
    empty = summary(engine)
    assert empty == {"articles": 0, "entities": 0, "mentions": 0, "events": 0, "top_entities": [],
                     "events_by_type": {}}
    load(engine)
    s = summary(engine, top=2)
    assert (s["articles"], s["entities"], s["mentions"], s["events"]) == (2, 5, 7, 4)
    assert s["top_entities"] == [
        {"name": "Alexander Lukashenko", "label": "PERSON", "mentions": 3, "articles": 2},
        {"name": "Kyiv", "label": "GPE", "mentions": 1, "articles": 1}]
    assert s["events_by_type"] == {"CONSULT": 1, "PROTEST": 1, "REJECT": 1, "THREATEN": 1}


def test_get_article_returns_fields_mentions_and_events(engine: sa.Engine) -> None:
    load(engine)
    a, _x = minsk()
    got = get_article(engine, a.id)
    assert got is not None
    assert got["title"] == "Lukashenko meets Putin" and got["url"] == "https://news.example/minsk"
    assert got["kafka_offset"] == 3 and got["authors"] == ["A. Writer"]
    assert [(m["text"], m["entity"], m["label"]) for m in got["mentions"]] == [
        ("Alexander Lukashenko", "Alexander Lukashenko", "PERSON"),
        ("Vladimir Putin", "Vladimir Putin", "PERSON"),
        ("Minsk", "Minsk", "GPE"), ("Lukashenko's", "Alexander Lukashenko", "PERSON")]
    consult, protest = got["events"]
    assert (consult["type"], consult["actor"], consult["target"], consult["location"]) == (
        "CONSULT", "Alexander Lukashenko", "Vladimir Putin", "Minsk")
    assert consult["date"] == dt.date(2024, 3, 1) and consult["date_text"] == "Friday"
    assert (protest["actor"], protest["actor_text"]) == (None, "Protesters")  # no entity behind it
    assert get_article(engine, "no-such-article") is None


def test_resolve_entity_is_case_insensitive_and_none_when_unknown(engine: sa.Engine) -> None:
    load(engine)
    found = resolve_entity(engine, "VLADIMIR putin")
    assert found is not None
    assert (found["name"], found["label"], found["mentions"]) == ("Vladimir Putin", "PERSON", 1)
    assert resolve_entity(engine, "Putin") is None  # never seen alone: not an alias
    assert resolve_entity(engine, "Robert'); DROP TABLE entities; --") is None
    assert summary(engine)["entities"] == 5


def test_articles_are_queryable_by_date_range(engine: sa.Engine) -> None:
    load(engine)
    with engine.connect() as conn:
        got = conn.execute(sa.select(articles.c.url).where(
            articles.c.published_date.between(dt.date(2024, 3, 2), dt.date(2024, 3, 31)))).scalars().all()
    assert got == ["https://news.example/kyiv"]


def test_event_view_shows_names_instead_of_ids(engine: sa.Engine) -> None:
    load(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT type, actor, target, location, url, title, published, event_date "
            "FROM event_view WHERE type IN (:a, :b) ORDER BY type"), {"a": "CONSULT", "b": "THREATEN"}).all()
    assert [tuple(r[:6]) for r in rows] == [
        ("CONSULT", "Alexander Lukashenko", "Vladimir Putin", "Minsk", "https://news.example/minsk",
         "Lukashenko meets Putin"),
        ("THREATEN", "Alexander Lukashenko", "Kyiv", None, "https://news.example/kyiv", None)]
    assert [(r.published, str(r.event_date)) for r in rows] == [
        ("2024-03-01", "2024-03-01"), ("2024-03-04T09:30:00+02:00", "2024-03-04")]


def test_entity_daily_mentions_counts_per_day(engine: sa.Engine) -> None:
    load(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, label, day, mention_count FROM entity_daily_mentions "
            "WHERE label = :label ORDER BY name, day"), {"label": "PERSON"}).all()
    assert [(n, lab, str(day), c) for n, lab, day, c in rows] == [
        ("Alexander Lukashenko", "PERSON", "2024-03-01", 2),
        ("Alexander Lukashenko", "PERSON", "2024-03-04", 1),
        ("Vladimir Putin", "PERSON", "2024-03-01", 1), ("Zelensky", "PERSON", "2024-03-04", 1)]
