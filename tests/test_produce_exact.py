"""Exact delivery (real broker): an id counts as sent, in memory and in the seen-set on disk, only once
the broker acknowledged it; a send of an id still in flight waits for the first one's outcome; an
article answered 503 and retried is delivered (202) or answered 503 again; a bad item (a bad URL, a
lone surrogate) is rejected with its reason and the good items around it are delivered, from a
file, stdin, --follow, a feed and HTTP."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pipeline.article import Article, article_id
from pipeline.bus.admin import ensure_topic, set_topic_config, topic_max_message_bytes
from pipeline.config import Settings, load_settings
from pipeline.metrics import Metrics
from pipeline.parsing import Rejected
from producers.intake import SENT, Intake
from producers.producer import ArticleProducer
from producers.seen import SeenStore
from tests.test_ingest_http import Ingest
from tests.test_produce import ROOT, articles_on, produce, topic_size
from tests.test_produce_feeds import Feed, feed, item, rss  # noqa: F401 (feed: the fixture)

pytestmark = pytest.mark.kafka

BAD_URL = "http://[::1/x"
# JSON lines as a user's file holds them: the lone surrogate is written as the escape \ud800
LINES = "\n".join([
    json.dumps({"title": "Good one", "body": "The first good story.", "url": "https://exact.example/1"}),
    json.dumps({"title": "Bad link", "body": "A story with a broken link.", "url": BAD_URL}),
    '{"title": "\\ud800", "body": "A story whose title is a lone surrogate."}',
    json.dumps({"title": "Good two", "body": "The second good story.", "url": "https://exact.example/2"}),
]) + "\n"
SUMMARY = "sent 2, duplicates 0, rejected 2 (invalid_field: 2), delivery failures 0"


def incompressible(size: int) -> str:
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


def small_limit_topic(settings: Settings) -> Settings:
    s = load_settings(bootstrap_servers=settings.bootstrap_servers, topic=settings.topic + ".exact")
    ensure_topic(s, partitions=1)
    return s


def set_limit(s: Settings, limit: int) -> None:
    """Change the topic's max.message.bytes and wait until the broker reports the new value."""
    set_topic_config(s, s.topic, {"max.message.bytes": str(limit)})
    deadline = time.monotonic() + 30
    while topic_max_message_bytes(s) != limit:
        assert time.monotonic() < deadline, "the topic's limit did not change"
        time.sleep(0.2)
    time.sleep(1)  # described by the controller; give the broker a moment to apply it


def assert_bad_items_rejected(stderr: str, where: str) -> None:
    said = [json.loads(x).get("message", "") for x in stderr.splitlines()]  # off a terminal: JSON lines
    lines = [x for x in said if "rejected (invalid_field)" in x]
    assert len(lines) == 2, stderr
    assert lines[0].startswith(f"{where}:2: rejected (invalid_field): url: Invalid IPv6 URL"), lines
    assert lines[1].startswith(f"{where}:3: rejected (invalid_field): title: not valid Unicode text"), lines


def assert_good_items_delivered(settings: Settings) -> None:
    assert sorted(str(a.title) for a in articles_on(settings, 2)) == ["Good one", "Good two"]


def test_bad_items_in_a_file_are_rejected_and_the_rest_delivered(kafka_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(LINES, "utf-8")
    res = produce(kafka_settings, str(path), state_dir=tmp_path / "state")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == SUMMARY
    assert_bad_items_rejected(res.stderr, str(path))
    assert_good_items_delivered(kafka_settings)


def test_bad_items_on_stdin_are_rejected_and_the_rest_delivered(kafka_settings: Settings, tmp_path: Path) -> None:
    res = produce(kafka_settings, "-", stdin=LINES, state_dir=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == SUMMARY
    assert_bad_items_rejected(res.stderr, "<stdin>")
    assert_good_items_delivered(kafka_settings)


def test_bad_items_in_a_followed_directory_are_rejected_and_following_goes_on(kafka_settings: Settings,
                                                                              tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox), "--topic", kafka_settings.topic,
           "--bootstrap-servers", kafka_settings.bootstrap_servers, "--metrics-port", "-1",
           "--state-dir", str(tmp_path / "state")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        (inbox / "bad.jsonl").write_text(LINES, "utf-8")
        deadline = time.monotonic() + 60
        while topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "the good items never arrived"
            time.sleep(0.3)
        (inbox / "later.jsonl").write_text(json.dumps({"title": "Later", "body": "It landed afterwards."}) + "\n")
        while topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) < 3:
            assert time.monotonic() < deadline and proc.poll() is None, "following stopped after the bad items"
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "sent 3, duplicates 0, rejected 2 (invalid_field: 2), delivery failures 0"
    assert_bad_items_rejected(err, str(inbox / "bad.jsonl"))
    assert sorted(str(a.title) for a in articles_on(kafka_settings, 3)) == ["Good one", "Good two", "Later"]


def test_a_feed_item_with_a_bad_link_is_rejected_and_the_others_delivered(
        kafka_settings: Settings, feed: Feed, tmp_path: Path) -> None:  # noqa: F811 (the feed fixture)
    bad = f"<item><title>Broken</title><link>{BAD_URL}</link><description>Broken link.</description></item>"
    feed.body = rss([item(1), bad, item(2)])
    res = produce(kafka_settings, "--feed", feed.url, state_dir=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "sent 2, duplicates 0, rejected 1 (invalid_field: 1), delivery failures 0"
    assert f"{feed.url} item 2: rejected (invalid_field): url: Invalid IPv6 URL" in res.stderr
    assert sorted(str(a.title) for a in articles_on(kafka_settings, 2)) == ["Story 1", "Story 2"]


def test_bad_items_over_http_are_rejected_with_reasons_and_the_rest_delivered(kafka_settings: Settings,
                                                                             tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state")
    try:
        status, answer = server.post(LINES.encode("utf-8"), "application/x-ndjson")
        again = server.post(json.dumps({"title": "After", "body": "The server goes on."}).encode())
    finally:
        out, err = server.stop()
    assert status == 202 and answer["accepted"] == 2, answer
    assert [(r["origin"], r["code"], r["reason"].split(":")[0]) for r in answer["rejected"]] == [
        ("request 1:2", "invalid_field", "url"), ("request 1:3", "invalid_field", "title")]
    assert again[0] == 202 and again[1]["accepted"] == 1
    assert out.strip() == "sent 3, duplicates 0, rejected 2 (invalid_field: 2), delivery failures 0", err
    assert len(articles_on(kafka_settings, 3)) == 3


def test_an_article_that_cannot_be_encoded_is_rejected_and_counted_and_the_loop_goes_on(
        kafka_settings: Settings) -> None:
    metrics = Metrics(registry=CollectorRegistry())
    producer = ArticleProducer(kafka_settings, metrics=metrics)
    lines: list[str] = []
    intake = Intake(producer, echo=lambda line, **_fields: lines.append(line))
    broken = Article.build(body="Built fine, then changed.", title="ok")
    broken.title = "\ud800"  # not validated again on assignment: caught when encoded
    good = Article.build(body="A good one after it.", title="good")
    outcome = intake.handle(broken, source="file", origin="in.jsonl:1")
    assert isinstance(outcome, Rejected) and outcome.code == "invalid_field"
    assert intake.handle(good, source="file") == SENT
    stats = producer.close()
    assert (stats.sent, stats.failed, dict(stats.rejected)) == (1, 0, {"invalid_field": 1})
    assert metrics.registry.get_sample_value("newsstream_articles_rejected_total", {"reason": "invalid_field"}) == 1
    assert lines == ["in.jsonl:1: rejected (invalid_field): title: not valid Unicode text (a lone surrogate?)"]
    assert [a.title for a in articles_on(kafka_settings, 1)] == ["good"]


def test_a_second_send_of_an_id_in_flight_is_told_the_first_ones_outcome(kafka_settings: Settings) -> None:
    s = small_limit_topic(kafka_settings)
    producer = ArticleProducer(s, metrics=Metrics(registry=CollectorRegistry()))
    set_limit(s, 20_000)  # the broker refuses what the client sends
    huge = Article.build(body=incompressible(60_000), title="huge", url="https://exact.example/huge")
    answers: list[str | None] = []
    assert producer.send(huge, on_done=answers.append) is True
    assert producer.send(huge, on_done=answers.append) is False  # not sent twice...
    assert producer.flush(30) == 0
    assert len(answers) == 2 and all(a and "TooLarge" in a for a in answers), answers  # ...but told it failed
    assert not producer.is_duplicate(huge.id)  # a failed id is not remembered as sent
    set_limit(s, 1_048_588)
    assert producer.send(huge, on_done=answers.append) is True  # sent again, for real
    assert producer.send(huge, on_done=answers.append) is False
    stats = producer.close()
    assert answers[2:] == [None, None]
    assert (stats.sent, stats.duplicates, stats.failed) == (1, 2, 1)
    assert [a.title for a in articles_on(s, 1)] == ["huge"]


def test_a_503_then_a_retry_after_the_fix_is_delivered_and_accepted_not_a_duplicate(kafka_settings: Settings,
                                                                                   tmp_path: Path) -> None:
    s = small_limit_topic(kafka_settings)
    state = tmp_path / "state"
    server = Ingest(s, state)
    huge = {"title": "Huge", "body": incompressible(60_000), "url": "https://exact.example/huge"}
    huge_id = article_id(url=huge["url"], source=None, title=None, body="")
    try:
        set_limit(s, 20_000)  # the topic shrinks under the server
        status, answer = server.post(huge)
        assert status == 503 and list(answer["failed"]) == [huge_id], answer
        assert huge_id not in SeenStore.in_dir(state, topic=s.topic)  # not remembered on disk either
        status, answer = server.post(huge)  # still too large: refused again, never "duplicate"
        assert status == 503 and list(answer["failed"]) == [huge_id], answer
        set_limit(s, 1_048_588)  # fixed
        status, answer = server.post(huge)
        assert (status, answer["accepted"], answer["duplicates"]) == (202, 1, []), answer
        status, answer = server.post(huge)  # now it is a duplicate: it is on the topic
        assert (status, answer["accepted"], answer["duplicates"]) == (202, 0, [huge_id]), answer
    finally:
        out, err = server.stop()
    assert out.strip() == "sent 1, duplicates 1, rejected 0, delivery failures 2", err
    assert [a.title for a in articles_on(s, 1)] == ["Huge"]
    assert huge_id in SeenStore.in_dir(state, topic=s.topic)
