"""The shared datasets through `produce` and the real broker: every article arrives once, keyed by its id."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.conftest import shared_path
from tests.test_produce import articles_on, produce

pytestmark = [pytest.mark.kafka, pytest.mark.shared]


def test_all_2225_bbc_articles_arrive(kafka_settings: Settings, tmp_path: Path) -> None:
    path = shared_path("bbc", "bbc.jsonl")
    res = produce(kafka_settings, str(path), state_dir=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "sent 2225, duplicates 0, rejected 0, delivery failures 0"
    got = articles_on(kafka_settings, 2225)
    assert len({a.id for a in got}) == 2225 and "business/001" in {a.id for a in got}
    assert Counter(a.section for a in got) == {"sport": 511, "business": 510, "politics": 417, "tech": 401,
                                               "entertainment": 386}
    again = produce(kafka_settings, str(path), state_dir=tmp_path)  # a rerun: all already sent
    assert again.stdout.strip() == "sent 0, duplicates 2225, rejected 0, delivery failures 0"


def test_all_410_news_please_articles_arrive_with_their_fields(kafka_settings: Settings, tmp_path: Path) -> None:
    path = shared_path("newsplease", "articles.jsonl")
    records = {r["id"]: r for r in map(json.loads, path.read_text("utf-8").splitlines())}
    res = produce(kafka_settings, str(path), state_dir=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "sent 410, duplicates 0, rejected 0, delivery failures 0"
    got = articles_on(kafka_settings, 410)
    assert {a.id for a in got} == set(records)
    for a in got:
        record = records[a.id]
        assert (a.title, a.url, a.lead, a.published) == (record["title"], record["url"], record["description"],
                                                         record["date_publish"])
        assert a.source == record["source_domain"]
