"""A broker that stops answering (its process SIGSTOPped): sends fail within the block time naming the
broker, memory stays bounded, `produce` says so in one line and exits non-zero, and `serve-ingest`
never answers 202 for an article that was not delivered. Each test runs its own broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from pipeline.article import Article
from pipeline.bus.admin import ensure_topic
from pipeline.bus.broker import LocalBroker, free_port
from pipeline.bus.clients import ProducerStalled
from pipeline.config import Settings, load_settings
from pipeline.errors import ToolMissing
from pipeline.metrics import Metrics
from producers.http_ingest import IngestServer
from producers.intake import Intake
from producers.producer import ArticleProducer
from tests.test_produce import ROOT, topic_size

pytestmark = pytest.mark.kafka

BLOCK = 2.0  # producer_max_block_seconds of these tests
IN_FLIGHT_BYTES = 200_000
BODY = 20_000


class Stoppable:
    """A broker of our own whose process can be frozen (SIGSTOP) and thawed (SIGCONT)."""

    def __init__(self, home: Path) -> None:
        self.broker = LocalBroker(home, port=free_port(), controller_port=free_port(),
                                  jars_dir=ROOT / ".kafka" / "jars")
        self.frozen = False

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen:
            os.kill(self.pid, signal.SIGCONT)
            self.frozen = False

    @property
    def pid(self) -> int:
        pid = self.broker._pid()
        assert pid is not None
        return pid


@pytest.fixture
def stoppable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stoppable]:
    own = Stoppable(tmp_path_factory.mktemp("stoppable-kafka"))
    try:
        own.broker.start(timeout=120)
    except ToolMissing as exc:
        pytest.skip(str(exc))
    try:
        yield own
    finally:
        own.thaw()
        own.broker.stop()


def settings_for(own: Stoppable) -> Settings:
    s = load_settings(bootstrap_servers=own.broker.bootstrap, topic=f"stall.{uuid.uuid4().hex[:8]}",
                      producer_max_in_flight_bytes=IN_FLIGHT_BYTES, producer_max_block_seconds=BLOCK,
                      metrics_port=-1)
    ensure_topic(s, partitions=1)
    return s


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def articles(n: int) -> Iterator[Article]:
    for i in range(n):  # made one at a time: only what the producer holds stays in memory
        yield Article.build(body=os.urandom(BODY // 2).hex(), title=f"stalled {i}", url=f"https://stall.example/{i}")


def test_sends_to_a_frozen_broker_fail_within_the_block_time_and_memory_stays_bounded(
        stoppable: Stoppable) -> None:
    s = settings_for(stoppable)
    producer = ArticleProducer(s, metrics=Metrics(registry=CollectorRegistry()))
    try:
        producer.send(Article.build(body="Before the freeze.", title="warm"))
        assert producer.flush(30) == 0 and producer.stats.sent == 1  # the topic's metadata is known
        stoppable.freeze()
        before = rss_bytes()
        queued, stalls = 0, []
        for art in articles(5_000):  # 100 MB offered
            started = time.monotonic()
            try:
                producer.send(art)
                queued += 1
            except ProducerStalled as exc:
                stalls.append((time.monotonic() - started, str(exc)))
                if len(stalls) == 3:  # trying again fails the same way, just as fast
                    break
        grown = rss_bytes() - before
        started = time.monotonic()
        with pytest.raises(ProducerStalled, match="the messages sent are not delivered"):
            producer.drain()  # waiting for a file's acknowledgements gives up just as soon
        drained_for = time.monotonic() - started
    finally:
        stoppable.thaw()
    assert BLOCK - 0.5 <= drained_for <= BLOCK + 3, drained_for
    assert queued <= IN_FLIGHT_BYTES // BODY + 1  # no more than the bound was ever held
    assert len(stalls) == 3
    for seconds, message in stalls:
        assert BLOCK - 0.5 <= seconds <= BLOCK + 3, seconds
        assert f"Kafka at {s.bootstrap_servers} has not acknowledged" in message
    assert grown < 30_000_000, f"memory grew by {grown} bytes while the broker was frozen"
    stats = producer.close(timeout=60)
    assert stats.failed == 3  # each refused send is a delivery failure, never a silent drop
    assert stats.sent == 1 + queued  # what was held is delivered once the broker answers again
    assert topic_size(s.bootstrap_servers, s.topic) == 1 + queued


def test_produce_says_in_one_line_that_the_broker_stalled_and_exits_non_zero(stoppable: Stoppable,
                                                                             tmp_path: Path) -> None:
    s = settings_for(stoppable)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "first.jsonl").write_text(json.dumps({"title": "first", "body": "Before the freeze."}) + "\n")
    env = {**os.environ, "NEWSSTREAM_PRODUCER_MAX_IN_FLIGHT_BYTES": str(IN_FLIGHT_BYTES),
           "NEWSSTREAM_PRODUCER_MAX_BLOCK_SECONDS": str(BLOCK)}
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox), "--topic", s.topic,
           "--bootstrap-servers", s.bootstrap_servers, "--metrics-port", "-1", "--state-dir", str(tmp_path / "st")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while topic_size(s.bootstrap_servers, s.topic) < 1:
            assert time.monotonic() < deadline and proc.poll() is None, "the first file was never sent"
            time.sleep(0.3)
        stoppable.freeze()
        (inbox / "second.jsonl").write_text("".join(
            json.dumps({"title": a.title, "body": a.body, "url": a.url}) + "\n" for a in articles(200)))
        started = time.monotonic()
        _, err = proc.communicate(timeout=90)
        took = time.monotonic() - started
    finally:
        stoppable.thaw()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    said = [json.loads(line)["message"] for line in err.splitlines() if '"message"' in line]  # JSON lines
    errors = [line for line in said if line.startswith("newsstream: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert f"Kafka at {s.bootstrap_servers} has not acknowledged" in errors[0]
    assert took < 30, f"took {took:.0f}s to give up"


def post(url: str, payload: Any) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url + "/articles", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_article_answered_503_while_the_broker_is_frozen_is_never_202_before_it_is_delivered(
        stoppable: Stoppable) -> None:
    s = settings_for(stoppable)
    metrics = Metrics(registry=CollectorRegistry())
    producer = ArticleProducer(s, metrics=metrics)
    producer.send(Article.build(body="Before the freeze.", title="warm"))
    assert producer.flush(30) == 0
    server = IngestServer(("127.0.0.1", 0), Intake(producer, echo=lambda line: None), metrics,
                          max_request_bytes=1_000_000, max_body_bytes=1_000_000, delivery_timeout=3)
    server.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    story = {"title": "Frozen", "body": "Sent while the broker was frozen.", "url": "https://stall.example/x"}
    try:
        stoppable.freeze()
        first = post(url, story)
        assert first[0] == 503 and "did not acknowledge the articles in time" in first[1]["error"]
        retried = post(url, story)  # the first send is still in flight: waited for, not taken as done
        assert retried[0] == 503, retried
        stoppable.thaw()
        status, answer = post(url, story)
        assert status == 202 and answer["ids"] == first[1]["ids"], answer
        assert answer["accepted"] + len(answer["duplicates"]) == 1  # delivered once, by whichever send
    finally:
        stoppable.thaw()
        server.stop()
        stats = producer.close()
    assert stats.sent == 2 and stats.failed == 0
    assert topic_size(s.bootstrap_servers, s.topic) == 2
