"""Two real workers (``consume --workers 2``) on a real broker: the grouping equals a sequential run's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings
from pipeline.store.db import make_engine, upgrade
from pipeline.store.writer import write_batch
from tests.pipeline_helpers import produce_articles, start_consumer
from tests.stories_helpers import grouping

pytestmark = pytest.mark.kafka

OUTLETS = ["north.example", "south.example", "east.example"]
EVENTS = [
    ("Hallstad", "earthquake", "Jonas Berg", "the Norwegian Red Cross", "rescuers searched the rubble"),
    ("Port Ostrava", "ferry fire", "Maria Novak", "Baltic Line", "passengers were evacuated"),
    ("Tromsvik", "fishing agreement", "Aisha Okafor", "the Nordic Fisheries Council", "trawlers may fish again"),
    ("Lindby", "bridge collapse", "Pavel Lindqvist", "Vegvesen Roads", "two lorries fell into the river"),
]


def event_articles() -> list[Any]:
    from pipeline.article import Article

    out = []
    for day, (place, what, person, org, detail) in enumerate(EVENTS, start=1):
        for j, outlet in enumerate(OUTLETS):
            body = (f"The {what} in {place} dominated the day. {person} of {org} said that {detail}. "
                    f"Officials in {place} said more details about the {what} would follow, {person} added. "
                    f"This is the {['first', 'second', 'third'][j]} report from {outlet} on it.")
            out.append(Article.build(body=body, title=f"{what.capitalize()} in {place}: {detail}",
                                     published=f"2024-04-{day * 3:02d}T{8 + j:02d}:00:00", source=outlet,
                                     url=f"https://{outlet}/{place.lower().replace(' ', '-')}"))
    return out


def test_two_workers_group_like_a_sequential_run(kafka_settings: Settings, tmp_path: Path) -> None:
    from pipeline.extract import EXTRACTOR_VERSION, extract_articles, load_nlp

    arts = event_articles()
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'two.db'}"
    upgrade(url)
    sup = start_consumer(kafka_settings, url, "--no-migrate", "--workers", "2", "--batch-size", "1",
                         "--until-idle", "4")
    assert sup.wait(timeout=300) == 0, sup.log[-3000:]
    decisions = [json.loads(line) for line in sup.log.splitlines() if '"story decision"' in line]
    assert len(decisions) == len(arts) and all("score" in d and "features" in d for d in decisions)

    seq = f"sqlite:///{tmp_path / 'seq.db'}"
    upgrade(seq)
    engine = make_engine(seq)
    try:
        for art, ext in extract_articles(load_nlp(), arts):
            write_batch(engine, [(art, ext, None)], extractor_version=EXTRACTOR_VERSION)
    finally:
        engine.dispose()
    want = {frozenset(a.id for a in arts[i:i + 3]) for i in range(0, len(arts), 3)}
    assert grouping(seq) == want
    assert grouping(url) == want
