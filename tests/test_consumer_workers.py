"""`consume --workers N`: N processes in one group share the partitions; a crashed one is restarted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import count, produce_articles, start_consumer, synthetic_articles, wait_until

pytestmark = pytest.mark.kafka


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_two_workers_share_the_partitions_and_a_killed_one_is_restarted(kafka_settings: Settings,
                                                                        tmp_path: Path) -> None:
    arts = synthetic_articles(240, seed=31, paragraphs=3)
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    upgrade(url)
    sup = start_consumer(kafka_settings, url, "--no-migrate", "--workers", "2", "--batch-size", "8")
    try:
        wait_until(lambda: len([p for p in children(sup.proc.pid) if _is_worker(p)]) == 2, 60, "two workers")
        wait_until(lambda: sup.log.count("partitions assigned") >= 2 and count(url) >= 20, 120, "both workers")
        victim = sorted(p for p in children(sup.proc.pid) if _is_worker(p))[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: "worker exited, restarting" in sup.log, 30, "the supervisor to notice")
        wait_until(lambda: count(url) == len(arts), 300, "every article stored")
    finally:
        log = sup.finish(timeout=90)
    assert log.count("worker started") == 3  # two, and the one restarted after SIGKILL
    done = [line for line in log.splitlines() if line.startswith("worker ") and "consumed" in line]
    assert len(done) == 2, log[-2000:]
    assert count(url) == len(arts)


def _is_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing" in cmd and b"resource_tracker" not in cmd


def test_a_second_signal_exits_at_once_and_the_batch_is_redelivered(kafka_settings: Settings,
                                                                    tmp_path: Path) -> None:
    arts = synthetic_articles(200, seed=37, paragraphs=3)
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'signals.db'}"
    upgrade(url)
    worker = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "64")  # ~2 s a batch
    wait_until(lambda: "batch committed" in worker.log, 120, "the first batch")
    worker.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: "stopping after the current batch" in worker.log, 10, "the first signal", step=0.01)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert "second signal: exiting now" in worker.log
    stored = count(url)
    assert 0 < stored < len(arts)
    again = start_consumer(kafka_settings, url, "--no-migrate")  # same group: picks up where it committed
    wait_until(lambda: count(url) == len(arts), 300, "the rest")
    again.finish()
    assert count(url) == len(arts)
