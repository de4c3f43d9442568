"""The story metrics a worker updates after each commit: new stories, merges, the largest stories.

Real databases (SQLite and PostgreSQL) and a real registry read back through the Prometheus text
format: what the dashboards' "New stories per minute" and "Largest stories" panels read.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pipeline.metrics import LARGEST_STORIES, Metrics
from pipeline.store.db import make_engine
from pipeline.store.stories import StoryStats
from pipeline.store.writer import write_batch
from tests.stories_helpers import grouping, two_events


def samples(m: Metrics, name: str) -> dict[str, float]:
    text = generate_latest(m.registry).decode()
    return {s.labels.get("story", ""): s.value for fam in text_string_to_metric_families(text)
            for s in fam.samples if s.name == name}


def test_a_committed_batch_reports_each_story_it_touched_with_its_article_count(db_url: str) -> None:
    engine = make_engine(db_url)
    m = Metrics(registry=CollectorRegistry())
    try:
        for a, x in two_events():  # one article per batch, as two workers' batches could be
            st = write_batch(engine, [(a, x, None)], extractor_version="test").stories
            m.stories_created.inc(st.new)
            m.largest_stories(st.sizes)
    finally:
        engine.dispose()
    groups = grouping(db_url)
    assert sorted(len(g) for g in groups) == [2, 2]
    assert samples(m, "newsstream_stories_created_total") == {"": 2.0}
    shown = samples(m, "newsstream_story_articles")
    assert sorted(shown.values()) == [2.0, 2.0] and len(shown) == 2


def test_the_largest_stories_stay_and_a_merged_story_leaves() -> None:
    m = Metrics(registry=CollectorRegistry())
    m.largest_stories({i: i for i in range(1, LARGEST_STORIES + 6)})  # 15 stories: the 10 largest shown
    shown = samples(m, "newsstream_story_articles")
    assert set(shown) == {str(i) for i in range(6, LARGEST_STORIES + 6)}
    m.largest_stories({15: 0, 14: 20, 3: 30})  # 15 merged into 14, story 3 grew
    shown = samples(m, "newsstream_story_articles")
    assert "15" not in shown and shown["14"] == 20 and shown["3"] == 30 and len(shown) == LARGEST_STORIES
    stats, other = StoryStats(sizes={1: 2}), StoryStats(sizes={1: 0, 2: 5})
    stats.add(other)  # the writer adds each committed transaction's stats: the later size wins
    assert stats.sizes == {1: 0, 2: 5}
