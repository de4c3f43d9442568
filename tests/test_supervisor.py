"""`consume --workers N` restarts crashed workers with a growing delay and gives up loudly when one keeps crashing."""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from consumers.runner import WorkerOptions
from consumers.supervisor import RestartPolicy, exit_code, supervisor_metrics_port
from pipeline.bus.broker import free_port
from pipeline.bus.clients import BusConsumer, send_all
from pipeline.config import Settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import count, produce_articles, start_consumer, synthetic_articles


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_restart_delays_double_up_to_the_cap() -> None:
    policy = RestartPolicy(max_crashes=100, window=3600, base_delay=1, max_delay=30, clock=Clock())
    assert [policy.crashed(0) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.crashed(1) == 1  # each worker has its own count


def test_k_crashes_within_the_window_give_up_and_older_crashes_are_forgotten() -> None:
    clock = Clock()
    policy = RestartPolicy(max_crashes=3, window=300, clock=clock)
    assert policy.crashed(0) == 1
    clock.now += 100
    assert policy.crashed(0) == 2
    clock.now += 250  # the first crash is now 350 s old: out of the window
    assert policy.crashed(0) == 2 and policy.recent(0) == 2
    clock.now += 10
    assert policy.crashed(0) is None and policy.recent(0) == 3


def test_a_worker_that_crashes_after_a_quiet_window_starts_again_from_the_shortest_delay() -> None:
    clock = Clock()
    policy = RestartPolicy(max_crashes=5, window=60, clock=clock)
    assert [policy.crashed(0) for _ in range(4)] == [1, 2, 4, 8]
    clock.now += 61
    assert policy.crashed(0) == 1


def test_the_supervisor_port_is_the_metrics_port_minus_one_or_none() -> None:
    assert supervisor_metrics_port(9108) == 9107
    assert supervisor_metrics_port(0) == -1 and supervisor_metrics_port(-1) == -1


def restarts(port: int) -> dict[str, float]:
    """newsstream_worker_restarts_total by worker, from the supervisor's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    series = re.finditer(r'^newsstream_worker_restarts_total\{worker="(\d+)"\} (\S+)$', text, re.M)
    return {m[1]: float(m[2]) for m in series}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.kafka
def test_a_worker_that_keeps_crashing_makes_the_supervisor_give_up(kafka_settings: Settings) -> None:
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, synthetic_articles(6, seed=5))
    port = free_port()
    sup = start_consumer(kafka_settings, "postgresql+psycopg://nobody@127.0.0.1:1/x", "--no-migrate",
                         "--retry-seconds", "1", "--workers", "2", "--max-restarts", "3", "--restart-window", "5",
                         "--supervisor-metrics-port", str(port))
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 240
    try:
        while sup.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # not serving yet
                seen = restarts(port) or seen
            time.sleep(0.2)
        code = sup.poll()
        assert code is not None, "the supervisor was still running after 240 s:\n" + sup.log[-3000:]
    finally:
        if sup.poll() is None:
            sup.kill()
    log = sup.log
    assert code == 1, log[-3000:]
    [line] = [json.loads(x)["message"] for x in log.splitlines()  # its stderr: JSON lines (pipeline_helpers)
              if '"event": "command_failed"' in x and "gave up on worker" in x]
    assert line.startswith("newsstream: error: gave up on worker")
    assert "after 3 crashes within 5 minutes" in line
    assert "127.0.0.1" in line and "DatabaseUnavailable" in line, line  # the worker's own last error
    assert max(seen.values()) == 2, seen  # the worker given up on was restarted twice
    assert set(seen) == {"0", "1"}
    workers = [int(m) for m in re.findall(r'"pid": (\d+), "event": "worker started"', log)]
    assert len(workers) >= 4 and not [p for p in workers if alive(p)]  # the other worker was stopped too


# -- issue 18.1: the exit code says whether anything was left unread ---------------------------------
@pytest.mark.kafka
def test_after_until_idle_the_exit_code_says_whether_the_group_left_messages_unread(
        kafka_settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    s, idle = kafka_settings, WorkerOptions(until_idle=1)
    send_all(s, s.topic, [(b"k", b"m%d" % i) for i in range(5)], partition=0)
    assert exit_code(0, idle, s) == 1  # every worker exited 0, the group committed nothing
    out, err = capfd.readouterr()
    assert "lag left 5" in out and f"the group {s.group} left 5 messages of {s.topic} unread" in err
    assert exit_code(0, WorkerOptions(), s) == 0  # without --until-idle it claims nothing

    consumer = BusConsumer(s, group=s.group, instance_id="exit-code")
    consumer.subscribe([s.topic])
    try:
        got: list = []
        deadline = time.monotonic() + 30
        while len(got) < 5 and time.monotonic() < deadline:
            got += consumer.poll(10, timeout=0.5)
        consumer.commit({(s.topic, 0): 4})
        assert exit_code(0, idle, s) == 1  # one left
        consumer.commit({(s.topic, 0): 5})
    finally:
        consumer.close()
    capfd.readouterr()
    assert exit_code(0, idle, s) == 0
    assert "lag left 0" in capfd.readouterr().out
    assert exit_code(1, idle, s) == 1  # a worker that failed still fails the run


@pytest.mark.kafka
def test_workers_until_idle_that_leave_messages_unread_exit_non_zero(kafka_settings: Settings,
                                                                   tmp_path: Path) -> None:
    """`--max-articles 3` stops each of the two workers early, with exit code 0: the supervisor
    still exits 1 and says how many messages the group left."""
    arts = synthetic_articles(40, seed=47)
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, arts)
    url = f"sqlite:///{tmp_path / 'unread.db'}"
    upgrade(url)
    sup = start_consumer(kafka_settings, url, "--no-migrate", "--workers", "2", "--batch-size", "1",
                         "--max-articles", "3", "--until-idle", "2")
    code = sup.wait(timeout=300)
    log = sup.log
    stored = count(url)
    assert code == 1, log[-3000:]
    assert 0 < stored <= 6, stored
    [line] = [json.loads(x)["message"] for x in log.splitlines()
              if '"event": "command_failed"' in x and "unread" in x]
    assert line == (f"newsstream: error: the group {kafka_settings.group} left {len(arts) - stored} messages "
                    f"of {kafka_settings.topic} unread")
