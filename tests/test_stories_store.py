"""Story assignment in the writer's transaction, on SQLite and PostgreSQL (real databases, no mocks)."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipeline.store.db import IMMEDIATE, make_engine, upgrade
from pipeline.store.query.stories import search_stories, story_profile
from pipeline.store.stories import merge_story, reassign_all, resolve_story
from pipeline.store.writer import write_batch
from pipeline.stories import StoryConfig
from tests.stories_helpers import grouping, same_actors_other_day, two_events

V = "test"


def write_one_by_one(url: str, items: list) -> None:
    engine = make_engine(url)
    try:
        for a, x in items:
            write_batch(engine, [(a, x, None)], extractor_version=V)
    finally:
        engine.dispose()


QUAKE = frozenset({"quake-a", "quake-b"})
FERRY = frozenset({"ferry-a", "ferry-b"})


def test_two_outlets_versions_of_one_event_join(db_url: str) -> None:
    write_one_by_one(db_url, two_events())
    assert grouping(db_url) == {QUAKE, FERRY}
    engine = make_engine(db_url)
    try:
        top = search_stories(engine, min_sources=2)
        assert sorted(r["articles"] for r in top) == [2, 2] and {r["sources"] for r in top} == {2}
        quake = next(r for r in top if "Hallstad" in (r["headline"] or ""))
        prof = story_profile(engine, quake["id"])
        assert {a["id"] for a in prof["articles"]} == QUAKE
        assert [s["source"] for s in prof["sources"]] == ["north.example", "south.example"]
        said = [e for e in prof["events"] if e["actor"] == "Jonas Berg" and e["type"] == "OTHER"]
        assert said and (said[0]["mentions"], said[0]["articles"], said[0]["sources"]) == (2, 2, 2)
        with engine.connect() as conn:  # article events point to their story event
            n = conn.execute(sa.text("select count(*) from events where story_event_id is not null")).scalar_one()
            mains = conn.execute(sa.text("select count(*) from articles where main_event_seq is not null")).scalar_one()
        assert n >= 4 and mains == 4
        assert search_stories(engine, entity="jonas berg")[0]["id"] == quake["id"]
    finally:
        engine.dispose()


def test_two_events_with_the_same_actors_on_different_days_stay_apart(db_url: str) -> None:
    write_one_by_one(db_url, same_actors_other_day())
    assert grouping(db_url) == {frozenset({"deal"}), frozenset({"spying"})}


def test_shuffled_arrival_orders_give_the_same_grouping(db_url: str, tmp_path: Path) -> None:
    items = two_events() + same_actors_other_day()
    want = None
    for seed in range(3):
        order = items[:]
        random.Random(seed).shuffle(order)
        url = db_url if seed == 0 else f"sqlite:///{tmp_path / f'shuffled{seed}.db'}"
        if seed:
            upgrade(url)
        write_one_by_one(url, order)
        got = grouping(url)
        want = want or got
        assert got == want == {QUAKE, FERRY, frozenset({"deal"}), frozenset({"spying"})}


def test_a_merge_is_idempotent_recorded_and_the_old_id_resolves(db_url: str) -> None:
    items = two_events()
    write_one_by_one(db_url, items)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            ids: dict[str, int] = dict(conn.execute(sa.text("select id, story_id from articles")).all())
            q, f = ids["quake-a"], ids["ferry-a"]
            assert merge_story(conn, f, q, article_id=None) is True
            assert merge_story(conn, f, q, article_id=None) is False  # again: nothing to do
            assert resolve_story(conn, f) == q and resolve_story(conn, q) == q
        assert story_profile(engine, f)["story"]["id"] == q
        assert len(story_profile(engine, q)["articles"]) == 4
    finally:
        engine.dispose()


def test_two_concurrent_transactions_of_one_new_event_end_in_one_story(db_url: str) -> None:
    """Both writers start at once; the assignment lock makes the second see the first's story."""
    a, b = [x for x in two_events() if x[0].id.startswith("quake")]
    engines = [make_engine(db_url), make_engine(db_url)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(engine: Any, item: Any) -> None:
        try:
            barrier.wait()
            write_batch(engine, [(item[0], item[1], None)], extractor_version=V)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e, it)) for e, it in zip(engines, (a, b), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors
    assert grouping(db_url) == {QUAKE}


def test_reprocessing_reassigns_after_a_change_of_settings(db_url: str) -> None:
    write_one_by_one(db_url, two_events())
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            before: dict[str, int] = dict(conn.execute(sa.text("select id, story_id from articles")).all())
        for cfg, want in ((StoryConfig(threshold=5.0), 4), (StoryConfig(), 2)):
            with engine.connect() as conn:
                conn.execution_options(**{IMMEDIATE: True})
                with conn.begin():
                    stats = reassign_all(conn, cfg)
            assert stats.assigned == 4
            assert len(grouping(db_url)) == want
        assert grouping(db_url) == {QUAKE, FERRY}
        with engine.connect() as conn:  # the stories of before still resolve
            for sid in set(before.values()):
                assert resolve_story(conn, sid) is not None
    finally:
        engine.dispose()
