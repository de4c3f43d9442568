"""`produce --feed URL` against a feed the test serves on 127.0.0.1 and the real broker:
conditional GET (ETag, Last-Modified -> 304), re-polling sends nothing new, --interval, HTML to text."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.bus.broker import free_port
from pipeline.config import Settings
from tests.test_produce import ROOT, articles_on, produce, topic_size

pytestmark = pytest.mark.kafka


def rss(items: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Harbour Daily</title>'
            '<link>https://harbour.example</link><language>en-gb</language>'
            + "".join(items) + "</channel></rss>").encode("utf-8")


def item(n: int, *, date: str = "Tue, 02 Apr 2024 10:00:00 GMT", description: str | None = None) -> str:
    description = description or f"&lt;p&gt;Ships &lt;b&gt;queued&lt;/b&gt; off port {n}.&lt;/p&gt;"
    return (f"<item><title>Story {n}</title><link>https://harbour.example/story/{n}?utm_source=rss</link>"
            f"<description>{description}</description><pubDate>{date}</pubDate>"
            f"<dc:creator>Reporter {n}</dc:creator><category>ports</category></item>")


@dataclass
class Feed:
    body: bytes = b""
    etag: str | None = '"v1"'
    last_modified: str | None = None
    requests: list[tuple[dict[str, str], int]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def change(self, body: bytes, *, etag: str | None = None, last_modified: str | None = None) -> None:
        with self.lock:
            self.body, self.etag, self.last_modified = body, etag, last_modified

    def statuses(self) -> list[int]:
        return [status for _, status in self.requests]


@pytest.fixture
def feed() -> Iterator[Feed]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                self.answer()

        def answer(self) -> None:
            headers = dict(self.headers.items())
            fresh = ((state.etag and headers.get("If-None-Match") == state.etag)
                     or (not state.etag and state.last_modified
                         and headers.get("If-Modified-Since") == state.last_modified))
            status = 304 if fresh else 200
            state.requests.append((headers, status))
            self.send_response(status)
            if state.etag:
                self.send_header("ETag", state.etag)
            if state.last_modified:
                self.send_header("Last-Modified", state.last_modified)
            body = b"" if fresh else state.body
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    yield state
    server.shutdown()
    server.server_close()


def test_a_feed_is_sent_then_a_second_poll_gets_304_and_sends_nothing(kafka_settings: Settings, feed: Feed,
                                                                      tmp_path: Path) -> None:
    feed.body = rss([item(1), item(2), item(3, date="the day after tomorrow"), item(4, description=" ")])
    state = tmp_path / "state"
    first = produce(kafka_settings, "--feed", feed.url, state_dir=state)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ("sent 2, duplicates 0, rejected 2 (bad_date: 1, empty_body: 1), "
                                    "delivery failures 0")
    assert f"{feed.url} item 3: rejected (bad_date)" in first.stderr
    assert f"{feed.url} item 4: rejected (empty_body)" in first.stderr
    got = {a.title: a for a in articles_on(kafka_settings, 2)}
    story = got["Story 1"]
    assert story.body == "Ships queued off port 1."  # HTML in the summary turned into text
    assert (story.published, story.source, story.section, story.authors, story.language) == (
        "2024-04-02T10:00:00+00:00", "Harbour Daily", "ports", ["Reporter 1"], "en")
    second = produce(kafka_settings, "--feed", feed.url, state_dir=state)
    assert second.returncode == 0, second.stderr
    assert feed.requests[1][0].get("If-None-Match") == '"v1"' and feed.statuses() == [200, 304]
    assert f"{feed.url}: not modified" in second.stderr
    assert second.stdout.startswith("sent 0, duplicates 0, rejected 0")
    assert topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) == 2


def test_a_changed_feed_sends_only_its_new_items(kafka_settings: Settings, feed: Feed, tmp_path: Path) -> None:
    feed.etag, feed.last_modified = None, formatdate(time.time() - 60, usegmt=True)
    feed.body = rss([item(1), item(2)])
    state = tmp_path / "state"
    assert produce(kafka_settings, "--feed", feed.url, state_dir=state).stdout.startswith("sent 2,")
    again = produce(kafka_settings, "--feed", feed.url, state_dir=state)  # Last-Modified only: 304 too
    assert feed.requests[1][0].get("If-Modified-Since") == feed.last_modified
    assert again.stdout.startswith("sent 0,") and feed.statuses() == [200, 304]
    feed.change(rss([item(3), item(1), item(2)]), last_modified=formatdate(time.time(), usegmt=True))
    third = produce(kafka_settings, "--feed", feed.url, state_dir=state)
    assert third.stdout.startswith("sent 1, duplicates 2, rejected 0"), third.stderr
    assert sorted(a.title for a in articles_on(kafka_settings, 3)) == ["Story 1", "Story 2", "Story 3"]


def test_interval_polls_until_sigterm_and_resends_nothing(kafka_settings: Settings, feed: Feed,
                                                          tmp_path: Path) -> None:
    feed.body = rss([item(1), item(2)])
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--bootstrap-servers", kafka_settings.bootstrap_servers,
           "--topic", kafka_settings.topic, "--metrics-port", "-1", "--state-dir", str(tmp_path / "state"),
           "--feed", feed.url, "--interval", "0.3"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(feed.requests) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        feed.change(rss([item(1), item(2), item(5)]), etag='"v2"')  # a new item lands
        while len(feed.requests) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert feed.statuses()[:2] == [200, 304] and feed.statuses().count(200) == 2, feed.statuses()
    assert out.strip() == "sent 3, duplicates 2, rejected 0, delivery failures 0"
    assert sorted(a.title for a in articles_on(kafka_settings, 3)) == ["Story 1", "Story 2", "Story 5"]


def test_an_unreachable_feed_is_reported_and_the_others_still_read(kafka_settings: Settings, feed: Feed,
                                                                   tmp_path: Path) -> None:
    feed.body = rss([item(1)])
    dead = f"http://127.0.0.1:{free_port()}/gone.xml"
    res = produce(kafka_settings, "--feed", dead, "--feed", feed.url, state_dir=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"{dead}: rejected (feed_error): cannot fetch the feed" in res.stderr
    assert res.stdout.startswith("sent 1, duplicates 0, rejected 1 (feed_error: 1)")
