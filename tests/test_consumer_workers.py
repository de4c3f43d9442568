"""`consume --workers N`: N processes in one group share the partitions; a crashed one is restarted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import consume_cmd, count, produce_articles, start_consumer, synthetic_articles, wait_until

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


def test_two_workers_until_idle_stop_only_when_the_group_is_caught_up(kafka_settings: Settings,
                                                                       tmp_path: Path) -> None:
    """Idle means the group as a whole has nothing left to read: no worker leaves messages behind,
    and the supervisor says what was left (nothing) and exits 0."""
    arts = synthetic_articles(120, seed=41, paragraphs=2)
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'idle.db'}"
    upgrade(url)
    sup = start_consumer(kafka_settings, url, "--no-migrate", "--workers", "2", "--batch-size", "8",
                         "--until-idle", "4")
    assert sup.wait(timeout=300) == 0, sup.log[-3000:]
    assert count(url) == len(arts)
    assert "lag left 0" in sup.log


def test_a_worker_given_no_partition_says_so_and_exits_non_zero(kafka_broker: Any, tmp_path: Path) -> None:
    from pipeline.bus.clients import ensure_topic
    from pipeline.config import load_settings

    s = load_settings(bootstrap_servers=kafka_broker.bootstrap, topic=f"one.{tmp_path.name[-8:]}",
                      group=f"g.one.{tmp_path.name[-8:]}")
    ensure_topic(s, partitions=1)
    produce_articles(s.bootstrap_servers, s.topic, synthetic_articles(400, seed=43, paragraphs=3))
    url = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    owner = start_consumer(s, url, "--no-migrate", "--instance-id", "owner", "--batch-size", "4")
    try:
        wait_until(lambda: "batch committed" in owner.log, 120, "the first worker to own the partition")
        idle = start_consumer(s, url, "--no-migrate", "--instance-id", "spare", "--until-idle", "2")
        code = idle.wait(timeout=120)
    finally:
        owner.finish(timeout=120)
    assert code == 1, idle.log[-2000:]
    assert "no partition of" in idle.log and "was assigned to this worker" in idle.log


def test_two_workers_started_together_process_every_article_once(kafka_settings: Settings, tmp_path: Path) -> None:
    # The second worker joins while the first is writing its first batches: the partitions that move are
    # handed over at the end of the batch being written (committed from the revocation), so the new
    # owner does not process that batch a second time. Before, a join redid up to a batch (216 of 200).
    arts = synthetic_articles(200, seed=37, paragraphs=2)
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'once.db'}"
    res = subprocess.run(consume_cmd(kafka_settings, url, "--workers", "2", "--until-idle", "6", "--batch-size", "16"),
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert count(url) == len(arts)
    processed = sum(int(n) for n in re.findall(r'"articles": (\d+), "seconds": [\d.]+, "event": "batch committed"',
                                               res.stderr))
    assert processed == len(arts), f"{processed} articles processed for {len(arts)}: a batch was done twice"
    assert "hand-over commit failed" not in res.stderr
