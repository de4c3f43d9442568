"""A batch written while the next one is parsed (in the writer process, the default, or in a thread) stores
what one batch at a time stores."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from consumers.worker import Worker
from pipeline.bus.admin import committed_offsets
from pipeline.config import Settings
from pipeline.extract import load_nlp
from pipeline.metrics import Metrics
from pipeline.store.db import make_engine, upgrade
from tests.pipeline_helpers import dump, produce_articles
from tests.stories_helpers import grouping
from tests.test_stories_workers import event_articles

pytestmark = pytest.mark.kafka


def run_worker(s: Settings, url: str, *, overlap: bool, nlp: Any, process: bool = True) -> tuple[Worker, set[str]]:
    """One worker over the whole topic, in its own group; the names of this process's threads that wrote
    articles (none when the writer process wrote them all)."""
    settings = s.model_copy(update={"batch_size": 3, "overlap_writes": overlap, "write_process": process,
                                    "group": f"g-{uuid.uuid4().hex[:8]}"})
    engine = make_engine(url)
    writers: set[str] = set()

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTICLES"):
            writers.add(threading.current_thread().name)

    worker = Worker(settings, engine=engine, nlp=nlp, metrics=Metrics(registry=CollectorRegistry()))
    worker.run(until_idle=3)
    engine.dispose()
    return worker, writers


def same_backend(request: pytest.FixtureRequest, db_url: str, tmp_path: Any) -> str:
    """Another fresh database on the backend of ``db_url`` (their dumps compare value for value)."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'one-at-a-time.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"t_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    return url


@pytest.mark.parametrize("process", [True, False], ids=["writer-process", "writer-thread"])
def test_overlapped_writes_store_the_same_tables_and_stories_as_one_batch_at_a_time(
        kafka_settings: Settings, db_url: str, tmp_path: Any, request: pytest.FixtureRequest, process: bool) -> None:
    s = kafka_settings
    arts = event_articles()  # four events, three outlets each: the stories depend on the order of the writes
    produce_articles(s.bootstrap_servers, s.topic, arts)
    nlp = load_nlp()
    seq_url = same_backend(request, db_url, tmp_path)

    one_by_one, seq_writers = run_worker(s, seq_url, overlap=False, nlp=nlp)
    overlapped, writers = run_worker(s, db_url, overlap=True, nlp=nlp, process=process)

    assert seq_writers == {threading.current_thread().name}
    if process:
        assert writers == set(), f"this process wrote articles itself, in threads {writers}"
    else:
        assert writers == {"db-write"}, "the batches were not written in the writer thread"
    for worker in (one_by_one, overlapped):
        assert (worker.stats.consumed, worker.stats.processed, worker.stats.batches) == (12, 12, 4)
        assert sum(committed_offsets(s, worker.group, s.topic).values()) == 12  # every offset committed
    assert dump(db_url) == dump(seq_url)
    assert grouping(db_url) == grouping(seq_url)
    assert len(grouping(db_url)) == 4


def test_an_in_memory_sqlite_database_is_written_one_batch_at_a_time(kafka_settings: Settings) -> None:
    # each thread would get its own empty in-memory database
    worker = Worker(kafka_settings, engine=make_engine("sqlite://"), nlp=None)
    try:
        assert worker.overlap is False
    finally:
        worker.close(leave=False)
