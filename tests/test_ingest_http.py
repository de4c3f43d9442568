"""`newsstream serve-ingest` as a real process against the real broker: POST /articles answers,
what arrives on the topic, bad requests refused with a reason, dedup across sources and restarts."""

from __future__ import annotations

import base64
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.article import article_id
from pipeline.bus.admin import ensure_topic
from pipeline.config import Settings, load_settings
from tests.test_produce import ROOT, articles_on, produce, topic_size

pytestmark = pytest.mark.kafka


class Ingest:
    def __init__(self, settings: Settings, state: Path, *extra: str) -> None:
        cmd = [sys.executable, "-m", "newsstream_cli", "serve-ingest", "--port", "0", "--state-dir", str(state),
               "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.topic, *extra]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                line = self.proc.stderr.readline()
                self.err.append(line)
                if m := re.search(r"serving on (http://[\d.]+:\d+)", line):
                    self.url = m.group(1)
                    return
            if self.proc.poll() is not None:
                break
        self.stop()
        pytest.fail(f"serve-ingest did not start: {''.join(self.err)}")

    def request(self, path: str, data: bytes | None = None, content_type: str = "application/json",
                method: str | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type} if data is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                status, body, ctype = res.status, res.read(), res.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            status, body, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
        return status, json.loads(body) if ctype == "application/json" else body.decode()

    def post(self, payload: Any, content_type: str = "application/json") -> tuple[int, Any]:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.request("/articles", data, content_type)

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        return out, "".join(self.err) + err


@pytest.fixture
def ingest(kafka_settings: Settings, tmp_path: Path) -> Iterator[Ingest]:
    server = Ingest(kafka_settings, tmp_path / "state", "--max-request-bytes", "20000")
    yield server
    server.stop()


def story(n: int, **extra: Any) -> dict[str, Any]:
    return {"title": f"Story {n}", "body": f"The body of story {n}.", "url": f"https://news.example/{n}",
            "published": "2024-06-01", **extra}


def test_one_article_an_array_and_json_lines_are_accepted_with_their_ids(kafka_settings: Settings,
                                                                         ingest: Ingest) -> None:
    assert ingest.url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
    status, answer = ingest.post(story(1))
    assert status == 202
    assert answer == {"ids": [article_id(url="https://news.example/1", source=None, title=None, body="")],
                      "accepted": 1, "duplicates": [], "rejected": []}
    status, answer = ingest.post([story(2), story(1), story(3, body=" ")])
    assert status == 202
    assert answer["accepted"] == 1 and len(answer["ids"]) == 2 and len(answer["duplicates"]) == 1
    assert answer["rejected"] == [{"origin": "request 2:1", "code": "empty_body", "reason": "empty body"}]
    lines = (json.dumps(story(4)) + "\n" + json.dumps(story(5)) + "\n").encode()
    status, answer = ingest.post(lines, "application/x-ndjson")
    assert status == 202 and answer["accepted"] == 2
    seed = "date 2024-06-02 Home page politics\n\nFrom: Ann Lee\n\nThe lead.\n\nMINSK – The body. (al)\n"
    status, answer = ingest.post(seed.encode(), "text/plain; charset=utf-8")
    assert status == 202 and answer["accepted"] == 1
    got = {a.title: a for a in articles_on(kafka_settings, 5)}
    assert set(got) == {"Story 1", "Story 2", "Story 4", "Story 5", "The lead"}  # seed text: titled by its lead
    assert got["The lead"].section == "politics" and got["The lead"].author_code == "al"
    assert got["Story 4"].published == "2024-06-01" and got["Story 4"].url == "https://news.example/4"
    assert got["Story 4"].source == "news.example"  # no "source": the URL's domain, as news-please does


def test_bad_requests_are_refused_with_a_reason(kafka_settings: Settings, ingest: Ingest) -> None:
    status, answer = ingest.post(b"<p>hi</p>", "text/html")
    assert status == 415 and "text/html" in answer["error"]
    status, answer = ingest.post(story(1, body="x" * 30_000))
    assert status == 413 and "over the limit of 20000" in answer["error"]
    status, answer = ingest.post(b"{not json")
    assert status == 400 and answer["rejected"][0]["code"] == "bad_json"
    status, answer = ingest.post(b"title=x", "application/json")
    assert status == 400 and "not JSON" in answer["error"]
    status, answer = ingest.post([story(1, body=""), {"title": "no body"}, story(2, published="soonish")])
    assert status == 400
    assert [r["code"] for r in answer["rejected"]] == ["empty_body", "missing_body", "bad_date"]
    status, answer = ingest.post(b"  ")
    assert status == 400 and answer["error"] == "the request body is empty"
    status, _ = ingest.request("/nowhere", b"{}")
    assert status == 404
    status, answer = ingest.request("/healthz")
    assert (status, answer) == (200, {"status": "ok", "delivery": "running"})
    status, metrics = ingest.request("/metrics")
    assert status == 200
    for reason, n in {"unsupported_media_type": 1, "request_too_large": 1, "bad_json": 2, "empty_body": 1,
                      "missing_body": 1, "bad_date": 1, "empty_request": 1}.items():
        assert f'newsstream_articles_rejected_total{{reason="{reason}"}} {n}.0' in metrics, reason
    assert topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) == 0
    out, err = ingest.stop()
    assert ingest.proc.returncode == 0, err
    assert out.strip().startswith("sent 0, duplicates 0, rejected 8")


def test_the_closing_summary_comes_as_json_for_scripts(kafka_settings: Settings, tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state", "--format", "json")
    try:
        status, answer = server.post([story(1), story(1, title="Again"), story(2, body=" ")])
        assert status == 202 and answer["accepted"] == 1, answer
    finally:
        out, err = server.stop()
    assert server.proc.returncode == 0, err
    assert json.loads(out) == {"sent": 1, "duplicates": 1, "rejected": 1, "rejected_by_reason": {"empty_body": 1},
                               "delivery_failures": 0}  # stdout holds the summary alone


def test_get_articles_is_405_with_allow_post_and_an_empty_post_is_400_empty_request(ingest: Ingest) -> None:
    req = urllib.request.Request(ingest.url + "/articles")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=30)
    assert caught.value.code == 405 and caught.value.headers["Allow"] == "POST"
    assert "use POST" in json.loads(caught.value.read())["error"]
    # a POST with no body and no Content-Length, as `curl -X POST` sends it
    status, answer = raw_http(ingest.url, b"POST /articles HTTP/1.1\r\nHost: %s\r\n"
                              b"Content-Type: application/json\r\nConnection: close\r\n\r\n")
    assert status == 400 and answer == {"error": "the request body is empty", "code": "empty_request"}


def raw_http(url: str, request: bytes) -> tuple[int, Any]:
    """Send bytes as they are (no client library filling in headers); the status and the JSON answer."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.replace(b"%s", f"{host}:{port}".encode()))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_the_same_article_from_a_file_then_over_http_and_after_a_restart_is_sent_once(
        kafka_settings: Settings, tmp_path: Path) -> None:
    state = tmp_path / "state"
    (tmp_path / "a.jsonl").write_text(json.dumps(story(1)) + "\n")
    assert produce(kafka_settings, str(tmp_path / "a.jsonl"), state_dir=state).stdout.startswith("sent 1,")
    server = Ingest(kafka_settings, state)
    try:
        same = story(1, url="http://www.NEWS.example/1/?utm_source=newsletter#top", title="Other title")
        status, answer = server.post(same)
        assert status == 202 and answer["accepted"] == 0 and len(answer["duplicates"]) == 1
        status, answer = server.post(story(2))
        assert status == 202 and answer["accepted"] == 1
    finally:
        out, err = server.stop()
    assert out.strip() == "sent 1, duplicates 1, rejected 0, delivery failures 0", err
    server = Ingest(kafka_settings, state)
    try:
        status, answer = server.post([story(2), story(3)])
        assert status == 202 and answer["accepted"] == 1 and len(answer["duplicates"]) == 1
    finally:
        server.stop()
    assert sorted(a.title for a in articles_on(kafka_settings, 3)) == ["Story 1", "Story 2", "Story 3"]


def test_an_article_kafka_refuses_is_answered_503_with_its_id_and_the_rest_delivered(kafka_settings: Settings,
                                                                                   tmp_path: Path) -> None:
    topic = kafka_settings.topic + ".small"
    ensure_topic(kafka_settings, topic, partitions=1, configs={"max.message.bytes": "50000"})
    s = load_settings(bootstrap_servers=kafka_settings.bootstrap_servers, topic=topic)
    server = Ingest(s, tmp_path / "state")
    try:
        huge = story(1, body=base64.b64encode(os.urandom(90_000)).decode())
        status, answer = server.post([huge, story(2)])
        assert status == 503 and "send them again" in answer["error"]
        huge_id = article_id(url=huge["url"], source=None, title=None, body="")
        assert list(answer["failed"]) == [huge_id] and "MessageSizeTooLarge" in answer["failed"][huge_id]
        status, answer = server.post([story(2)])  # the client retries what it can: already there
        assert status == 202 and answer["accepted"] == 0 and len(answer["duplicates"]) == 1
    finally:
        out, err = server.stop()
    assert server.proc.returncode == 1, err  # a delivery failure makes the exit status say so
    assert out.strip() == "sent 1, duplicates 1, rejected 0, delivery failures 1"
    assert [a.title for a in articles_on(s, 1)] == ["Story 2"]
