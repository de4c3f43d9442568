"""A long-running worker's memory stays flat: 3,000 articles, resident memory after the last 1,000 within
10% of after the first 1,000 (spaCy's string store would grow with every new word without memory zones)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pipeline.article import Article
from pipeline.config import Settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import count, produce_articles, start_consumer, synthetic_articles, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_resident_memory_stays_flat_over_3000_articles(kafka_settings: Settings, tmp_path: Path) -> None:
    arts = []
    for a in synthetic_articles(3000, seed=23):
        token = uuid.uuid4().hex[:10]  # new strings in every article, as real news has
        body = f"{a.body}\n\nThe reporter Vel{token}ski and the firm Qor{token[::-1]} Ltd filed it."
        arts.append(Article.build(body=body, title=a.title, published=a.published, url=a.url, source=a.source))
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    upgrade(url)
    worker = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "64")
    try:
        wait_until(lambda: count(url) >= 1000, 300, "the first 1,000 articles", step=0.05)
        after_first = rss_kib(worker.proc.pid)
        wait_until(lambda: count(url) >= 3000, 600, "all 3,000 articles", step=0.05)
        after_last = rss_kib(worker.proc.pid)
    finally:
        worker.finish()
    growth = (after_last - after_first) / after_first
    print(f"worker RSS after 1,000 articles: {after_first / 1024:.1f} MiB; after 3,000: {after_last / 1024:.1f} MiB "
          f"({growth:+.1%})")
    assert growth <= 0.10
