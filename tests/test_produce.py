"""`newsstream produce` against the real broker: what arrives on the topic, and what is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pipeline.article import Article, decode
from pipeline.bus.admin import end_offsets
from pipeline.bus.broker import free_port
from pipeline.config import Settings, load_settings
from pipeline.errors import BrokerUnavailable
from pipeline.metrics import Metrics
from producers.producer import ArticleProducer
from tests.conftest import SAMPLES
from tests.fixtures_kafka import read_topic

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parent.parent


def produce(settings: Settings, *args: str, stdin: str | None = None,
            state_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Run `newsstream produce`; its seen-set lives in ``state_dir`` (a fresh one when not given)."""
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--bootstrap-servers", settings.bootstrap_servers,
           "--topic", settings.topic, "--metrics-port", "-1", *args]
    env = {**os.environ, "NEWSSTREAM_STATE_DIR": str(state_dir or tempfile.mkdtemp(prefix="newsstream-state-"))}
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=120, cwd=ROOT, env=env)


def test_sample_articles_arrive_keyed_by_their_id(kafka_settings: Settings) -> None:
    files = sorted(SAMPLES.glob("*.txt"))
    assert len(files) >= 5
    res = produce(kafka_settings, str(SAMPLES))
    assert res.returncode == 0, res.stderr
    jsonl = sum(1 for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip())
    assert res.stdout.strip().splitlines()[-1].startswith(f"sent {len(files) + jsonl}, duplicates 0, rejected 0")
    msgs = read_topic(kafka_settings.bootstrap_servers, kafka_settings.topic, expect=len(files) + jsonl)
    assert len(msgs) == len(files) + jsonl
    for m in msgs:
        art = decode(m.value)
        assert (m.key or b"").decode() == art.id
        assert art.body.strip()
    dated = [decode(m.value) for m in msgs]
    assert all(a.published for a in dated)
    assert {a.section for a in dated} - {None}


def test_bad_lines_are_reported_by_file_and_line_and_the_rest_is_sent(kafka_settings: Settings,
                                                                      tmp_path: Path) -> None:
    good = {"title": "Port reopens", "body": "The port of Gdansk reopened on Monday.", "published": "2024-04-01",
            "url": "https://example.org/port"}
    lines = [json.dumps(good), "{broken json", json.dumps({"title": "no body"}),
             json.dumps({**good, "url": "https://example.org/other", "body": "Ships queued off Gdynia."}),
             json.dumps(good)]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    res = produce(kafka_settings, str(path))
    assert res.returncode == 0, res.stderr
    assert f"{path}:2: rejected (bad_json)" in res.stderr
    assert f"{path}:3: rejected (missing_body)" in res.stderr
    assert res.stdout.strip() == ("sent 2, duplicates 1, rejected 2 (bad_json: 1, missing_body: 1), "
                                  "delivery failures 0")
    msgs = read_topic(kafka_settings.bootstrap_servers, kafka_settings.topic, expect=2)
    assert sorted(decode(m.value).url for m in msgs) == ["https://example.org/other", "https://example.org/port"]


def test_stdin_is_read_with_dash(kafka_settings: Settings) -> None:
    text = json.dumps({"title": "Bridge opens", "body": "A new bridge opened in Riga.", "published": "2024-05-05"})
    res = produce(kafka_settings, "-", stdin=text + "\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("sent 1,")
    (msg,) = read_topic(kafka_settings.bootstrap_servers, kafka_settings.topic, expect=1)
    assert decode(msg.value).title == "Bridge opens"


def test_producer_metrics_count_what_the_broker_acknowledged(kafka_settings: Settings) -> None:
    metrics = Metrics(registry=CollectorRegistry())
    producer = ArticleProducer(kafka_settings, metrics=metrics)
    arts = [Article.build(body=f"Report number {i} from Tallinn.", title=f"r{i}") for i in range(5)]
    for a in [*arts, arts[0]]:
        producer.send(a)
    producer.reject("bad_json")
    stats = producer.close()
    assert (stats.sent, stats.duplicates, stats.failed) == (5, 1, 0)
    value = metrics.registry.get_sample_value
    assert value("newsstream_articles_produced_total", {"source": "file"}) == 5
    assert value("newsstream_duplicates_skipped_total") == 1
    assert value("newsstream_articles_rejected_total", {"reason": "bad_json"}) == 1
    assert value("newsstream_produce_latency_seconds_count") == 5


def test_unreachable_broker_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    s = load_settings(bootstrap_servers=f"127.0.0.1:{free_port()}", topic="nowhere")
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=f"cannot reach Kafka at {s.bootstrap_servers}"):
        ArticleProducer(s, metrics=Metrics(registry=CollectorRegistry()))
    assert time.monotonic() - started < 30


def test_the_produce_command_reports_an_unreachable_broker_in_one_line(tmp_path: Path) -> None:
    s = load_settings(bootstrap_servers=f"127.0.0.1:{free_port()}", topic="nowhere")
    res = produce(s, "-", stdin=json.dumps({"title": "t", "body": "Nobody will read this."}) + "\n")
    assert res.returncode == 1
    said = [json.loads(x).get("message", "") for x in res.stderr.splitlines()]  # off a terminal: JSON lines
    (line,) = [x for x in said if x.startswith("newsstream: error:")]
    assert f"cannot reach Kafka at {s.bootstrap_servers}" in line and "Traceback" not in res.stderr, res.stderr


def topic_size(bootstrap: str, topic: str) -> int:
    """How many messages the topic holds (sum of the partitions' end offsets): exact, no waiting."""
    ends = end_offsets(load_settings(bootstrap_servers=bootstrap), topic, timeout=30)
    assert ends, f"topic {topic} has no partitions"
    return sum(ends.values())


def articles_on(settings: Settings, expect: int) -> list[Article]:
    """The articles on the settings' topic, checking that it holds exactly ``expect`` messages."""
    msgs = read_topic(settings.bootstrap_servers, settings.topic, expect=expect)
    assert topic_size(settings.bootstrap_servers, settings.topic) == expect
    for m in msgs:
        assert (m.key or b"").decode() == decode(m.value).id
    return [decode(m.value) for m in msgs]
