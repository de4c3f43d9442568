"""The Kafka layer as a user meets it: an unreachable broker, the client's own logs, records and lag."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.bus.broker import free_port
from pipeline.bus.clients import BusConsumer, ensure_topic, group_lag, read_topic, send_all
from pipeline.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "newsstream_cli", *args], capture_output=True, text=True,
                          timeout=180, cwd=ROOT, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", [["topics", "list"], ["consume", "--until-idle", "1", "--metrics-port", "-1"],
                                     ["produce", "--metrics-port", "-1", str(ROOT / "samples" / "articles.jsonl")]])
def test_an_unreachable_broker_is_one_line_with_a_hint_within_seconds(command: list[str], tmp_path: Path) -> None:
    started = time.monotonic()
    res = cli(*command, "--bootstrap-servers", f"127.0.0.1:{free_port()}",
              *(["--database-url", f"sqlite:///{tmp_path / 'x.db'}"] if command[0] == "consume" else []),
              env={"NEWSSTREAM_STATE_DIR": str(tmp_path / "state")})  # produce's seen-set: not the checkout's
    took = time.monotonic() - started
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr  # none of the client's reconnection chatter
    assert "cannot reach Kafka at 127.0.0.1:" in lines[0] and "newsstream broker start" in lines[0]
    assert took < 20, f"took {took:.1f}s"


def test_the_clients_own_logs_pass_through_our_structured_logs_at_debug() -> None:
    res = cli("topics", "list", "--bootstrap-servers", f"127.0.0.1:{free_port()}",
              env={"NEWSSTREAM_LOG_LEVEL": "DEBUG", "NEWSSTREAM_LOG_FORMAT": "json"})
    client = [line for line in res.stderr.splitlines() if '"event": "kafka client"' in line]
    assert client and all('"logger": "kafka.' in line and '"client_level":' in line for line in client)


@pytest.mark.kafka
def test_records_keep_key_value_headers_and_group_lag_counts_what_is_uncommitted(kafka_settings: Settings) -> None:
    s = kafka_settings
    send_all(s, s.topic, [(b"k1", b"v1"), (None, b"v2"), (b"k3", None)], partition=1)
    got = read_topic(s, s.topic, expect=3)
    assert [(r.partition, r.offset, r.key, r.value) for r in got] == [(1, 0, b"k1", b"v1"), (1, 1, None, b"v2"),
                                                                      (1, 2, b"k3", None)]
    assert all(r.timestamp_ms and r.timestamp_ms > 0 and r.origin == f"{s.topic}[1]@{r.offset}" for r in got)
    assert group_lag(s, s.group, s.topic) == {0: 0, 1: 3, 2: 0}

    consumer = BusConsumer(s, group=s.group, instance_id="lag-test")
    consumer.subscribe([s.topic])
    try:
        records: list = []
        deadline = time.monotonic() + 30
        while len(records) < 3 and time.monotonic() < deadline:
            records += consumer.poll(10, timeout=0.5)
        consumer.commit({(s.topic, 1): 2})
        assert consumer.group_lag(s.topic) == {(s.topic, 0): 0, (s.topic, 1): 1, (s.topic, 2): 0}
        assert consumer.lag()[(s.topic, 1)] == 0  # read to the end, one not yet committed
    finally:
        consumer.close()
    assert group_lag(s, s.group, s.topic) == {0: 0, 1: 1, 2: 0}


def test_a_topic_made_with_settings_gets_its_partitions(kafka_broker: object) -> None:
    s = load_settings(bootstrap_servers=kafka_broker.bootstrap)  # type: ignore[attr-defined]
    name = f"bus.{time.monotonic_ns()}"
    assert ensure_topic(s, name, partitions=4) is True
    assert ensure_topic(s, name, partitions=4) is False
    from pipeline.bus.clients import topic_partitions

    assert topic_partitions(s)[name] == 4


@pytest.mark.kafka
def test_closing_summaries_come_as_json_or_csv_for_scripts(kafka_settings: Settings, tmp_path: Path) -> None:
    import csv
    import io
    import json

    s = kafka_settings
    kafka = ["--bootstrap-servers", s.bootstrap_servers, "--topic", s.topic]
    sent = cli("produce", *kafka, "--metrics-port", "-1", "--format", "json", str(ROOT / "samples"),
               env={"NEWSSTREAM_STATE_DIR": str(tmp_path / "state")})
    assert sent.returncode == 0, sent.stderr
    produced = json.loads(sent.stdout)
    assert produced["sent"] > 0 and produced["delivery_failures"] == 0 and "rejected_by_reason" in produced
    url = f"sqlite:///{tmp_path / 'summary.db'}"
    got = cli("consume", *kafka, "--group", s.group, "--database-url", url, "--metrics-port", "-1",
              "--until-idle", "2", "--format", "csv", "--log-level", "warning")
    assert got.returncode == 0, got.stderr
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    assert int(row["consumed"]) == produced["sent"] == int(row["processed"]) and row["lag_left"] == "0"
    assert '"level": "info"' not in got.stderr  # --log-level warning reached the worker
