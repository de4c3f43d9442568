"""A message Kafka refuses is reported and counted, never silently dropped, and never marked as sent;
the good messages around it still arrive (the producer fits its batches to the topic's size limit)."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.bus.admin import ensure_topic
from pipeline.bus.broker import free_port
from pipeline.config import Settings, load_settings
from producers.seen import SeenStore
from tests.test_produce import ROOT, articles_on, produce, topic_size

pytestmark = pytest.mark.kafka


def incompressible_body(size: int) -> str:
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


def write(path: Path, big: int) -> Path:
    path.write_text(json.dumps({"title": "huge", "body": incompressible_body(big)}) + "\n"
                    + json.dumps({"title": "small", "body": "A small one."}) + "\n")
    return path


def test_a_message_over_the_topic_limit_fails_the_run_alone_and_is_tried_again_next_time(kafka_settings: Settings,
                                                                                  tmp_path: Path) -> None:
    topic = kafka_settings.topic + ".small"
    ensure_topic(kafka_settings, topic, partitions=1, configs={"max.message.bytes": "100000"})
    s = load_settings(bootstrap_servers=kafka_settings.bootstrap_servers, topic=topic)
    path, state = write(tmp_path / "in.jsonl", 300_000), tmp_path / "state"
    res = produce(s, str(path), state_dir=state)
    assert res.returncode == 1
    assert res.stdout.strip() == "sent 1, duplicates 0, rejected 0, delivery failures 1"
    assert "delivery failed" in res.stderr and "MessageSizeTooLarge" in res.stderr
    again = produce(s, str(path), state_dir=state)
    assert again.stdout.strip() == "sent 0, duplicates 1, rejected 0, delivery failures 1"  # not remembered
    (small,) = articles_on(s, 1)
    assert small.title == "small"
    store = SeenStore.in_dir(state, topic=topic)
    assert small.id in store and len(store) == 1  # the seen-set on disk never got the undelivered one
    store.close()


def test_a_message_over_the_client_limit_is_a_delivery_failure_not_a_crash(kafka_settings: Settings,
                                                                           tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", 9_000_000)
    res = produce(kafka_settings, str(path), "--max-body-bytes", "10000000", state_dir=tmp_path / "state")
    assert res.returncode == 1, res.stderr[-2000:]
    assert res.stdout.strip() == "sent 1, duplicates 0, rejected 0, delivery failures 1"
    assert [a.title for a in articles_on(kafka_settings, 1)] == ["small"]


def test_follow_keeps_a_file_with_an_undelivered_article_pending_without_looping(kafka_settings: Settings,
                                                                                 tmp_path: Path) -> None:
    topic = kafka_settings.topic + ".small"
    ensure_topic(kafka_settings, topic, partitions=1, configs={"max.message.bytes": "100000"})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(inbox / "in.jsonl", 300_000)
    port = free_port()
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox), "--topic", topic,
           "--bootstrap-servers", kafka_settings.bootstrap_servers, "--metrics-port", str(port),
           "--state-dir", str(tmp_path / "state")]

    def failures() -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as res:
                page = res.read().decode()
        except OSError:
            return 0.0
        match = re.search(r"^newsstream_delivery_failures_total (\S+)$", page, re.M)
        return float(match.group(1)) if match else 0.0

    for run in (1, 2):
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while failures() < 1 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.3)
            time.sleep(3)  # several scans: the file must not be read again and again
            assert failures() == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        assert "in.jsonl: not every article was delivered; the file stays pending" in err
        assert err.count("reading ") == 1
        sent, dup = (1, 0) if run == 1 else (0, 1)  # after a restart the file is tried again
        assert out.strip() == f"sent {sent}, duplicates {dup}, rejected 0, delivery failures 1"
        assert proc.returncode == 1
    assert topic_size(kafka_settings.bootstrap_servers, topic) == 1
