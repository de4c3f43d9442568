"""The persisted seen-set: survives a reopen, is per topic, stays bounded, and is forgotten for a topic
that was emptied (deleted and created again) so that the topic gets everything again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.bus.admin import delete_topic, ensure_topic
from pipeline.config import Settings
from pipeline.errors import BrokerError
from producers.seen import SeenStore
from tests.conftest import SAMPLES
from tests.test_produce import articles_on, produce


def test_ids_survive_a_reopen_and_are_kept_per_topic(tmp_path: Path) -> None:
    store = SeenStore.in_dir(tmp_path, topic="news")
    store.add("a1")
    store.close()
    again = SeenStore.in_dir(tmp_path, topic="news")
    other = SeenStore.in_dir(tmp_path, topic="other")
    assert "a1" in again and "b2" not in again and "a1" not in other
    again.close()
    other.close()


def test_the_bound_forgets_the_oldest_ids_first(tmp_path: Path) -> None:
    store = SeenStore.in_dir(tmp_path, topic="news", max_ids=3)
    for i in range(5):
        store.add(f"id{i}")
    store.add("id2")  # sent again: now the most recent
    store.close()
    store = SeenStore.in_dir(tmp_path, topic="news", max_ids=3)
    assert len(store) == 3
    assert {i for i in ("id0", "id1", "id2", "id3", "id4") if i in store} == {"id2", "id3", "id4"}
    store.close()


@pytest.mark.kafka
def test_a_topic_deleted_and_created_again_gets_everything_again(kafka_settings: Settings,
                                                                 tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert produce(kafka_settings, str(SAMPLES / "articles.jsonl"), state_dir=state).returncode == 0
    n = sum(1 for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip())
    delete_topic(kafka_settings, kafka_settings.topic)
    deadline = time.monotonic() + 60
    while True:  # the deletion completes in the background
        try:
            if ensure_topic(kafka_settings, partitions=3):
                break
        except BrokerError:
            pass
        assert time.monotonic() < deadline, "the topic could not be created again"
        time.sleep(0.5)
    res = produce(kafka_settings, str(SAMPLES / "articles.jsonl"), state_dir=state)
    assert f"topic {kafka_settings.topic} is empty: forgetting" in res.stderr
    assert res.stdout.startswith(f"sent {n}, duplicates 0"), res.stderr
    assert len(articles_on(kafka_settings, n)) == n
