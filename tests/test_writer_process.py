"""The worker's writer process, broken the way an operator or the machine breaks it: killed with SIGKILL in
the middle of a write, and left behind by a worker killed with SIGKILL. Real broker, real SQLite files.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from consumers.worker import Worker
from pipeline.bus.admin import committed_offsets
from pipeline.config import Settings
from pipeline.extract import load_nlp
from pipeline.metrics import Metrics
from pipeline.store.db import make_engine, upgrade
from tests.pipeline_helpers import count, dump, produce_articles, start_consumer, synthetic_articles, wait_until

pytestmark = pytest.mark.kafka


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def writer_pids(log: str) -> list[int]:
    return [int(p) for p in re.findall(r'"writer process started"[^\n]*"pid": (\d+)', log)
            + re.findall(r'"pid": (\d+)[^\n]*"writer process started"', log)]


def worker_for(s: Settings, url: str, nlp: Any, **update: Any) -> Worker:
    settings = s.model_copy(update={"batch_size": 4, "group": f"g-{uuid.uuid4().hex[:8]}", "write_process": True,
                                    **update})
    return Worker(settings, engine=make_engine(url), nlp=nlp, metrics=Metrics(registry=CollectorRegistry()))


def test_a_writer_process_killed_in_the_middle_of_a_write_costs_no_article(
        kafka_settings: Settings, tmp_path: Path) -> None:
    s = kafka_settings
    produce_articles(s.bootstrap_servers, s.topic, synthetic_articles(16, seed=11, paragraphs=2))
    nlp = load_nlp()
    ref_url, url = f"sqlite:///{tmp_path / 'ref.db'}", f"sqlite:///{tmp_path / 'killed.db'}"
    for u in (ref_url, url):
        upgrade(u)
    reference = worker_for(s, ref_url, nlp, overlap_writes=False)
    reference.run(until_idle=3)

    worker = worker_for(s, url, nlp)
    killed: list[int] = []

    def kill_mid_write() -> None:
        # the database is locked, so the child's next write waits inside its transaction: kill it there
        lock = sqlite3.connect(str(tmp_path / "killed.db"), timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        try:
            assert worker._writer is not None
            wait_until(lambda: worker._writer.busy(), 60, "the next batch handed to the writer process", step=0.01)
            time.sleep(0.5)
            pid = worker._writer.pid()
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            wait_until(lambda: not alive(pid), 10, "the writer process to die")
        finally:
            lock.rollback()
            lock.close()

    killer: list[threading.Thread] = []

    def after_first_batch(stats: Any) -> None:
        if stats.batches == 1:
            killer.append(threading.Thread(target=kill_mid_write, daemon=True))
            killer[0].start()

    worker.run(until_idle=3, on_batch=after_first_batch)
    killer[0].join(timeout=60)

    assert len(killed) == 1, "the writer process was never killed mid-write"
    assert (worker.stats.consumed, worker.stats.processed, worker.stats.dead_lettered) == (16, 16, 0)
    assert sum(committed_offsets(s, worker.group, s.topic).values()) == 16
    assert dump(url) == dump(ref_url)


def test_a_worker_killed_with_sigkill_takes_its_writer_process_with_it(kafka_settings: Settings,
                                                                       tmp_path: Path) -> None:
    s = kafka_settings
    produce_articles(s.bootstrap_servers, s.topic, synthetic_articles(120, seed=5, paragraphs=3))
    url = f"sqlite:///{tmp_path / 'news.db'}"
    env = {"NEWSSTREAM_WRITE_PROCESS": "true"}
    proc = start_consumer(s, url, "--batch-size", "8", env=env)
    wait_until(lambda: count(url) >= 16, 180, "the worker to store its first batches")
    pids = writer_pids(proc.log)
    assert len(pids) == 1 and alive(pids[0]), proc.log[-3000:]
    assert proc.kill() == -signal.SIGKILL
    wait_until(lambda: not alive(pids[0]), 5, "the writer process to die with its worker")

    stored = count(url)
    time.sleep(1.0)
    assert count(url) == stored, "something still wrote after the worker was killed"
    # and a restart finishes the job with a writer process of its own
    again = start_consumer(s, url, "--batch-size", "8", "--until-idle", "3", env=env)
    assert again.wait(timeout=300) == 0, again.log[-3000:]
    assert count(url) == 120
    assert len(writer_pids(again.log)) == 1 and writer_pids(again.log) != pids
