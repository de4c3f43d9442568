"""Feeds that try to hurt the pipeline: entity expansion (billion laughs), external entities,
a feed that is not quite well-formed, a server that trickles a byte a second, a gzip bomb; and,
with the real broker, one bad feed does not hold up the others or `--follow`."""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.article import Article
from pipeline.config import Settings
from pipeline.parsing import Rejected
from pipeline.parsing.feeds import parse_feed
from producers.feeds import FeedPoller
from tests.test_produce import ROOT, articles_on
from tests.test_produce_feeds import item, rss

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><title>&lol9;</title><link>https://x.example/1</link><description>&lol9;</description></item>
</channel></rss>"""


def xxe(secret: Path, broken: bool = False) -> bytes:
    head = b'<?xml version="1.0"?>\n' + (b"&oops; <" if broken else b"")
    return head + (f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
                   '<rss version="2.0"><channel><title>Leak</title><item><title>Leak &xxe;</title>'
                   '<link>https://x.example/2</link><description>Secret: &xxe;</description></item>'
                   '</channel></rss>').encode()


def test_billion_laughs_is_refused_whole_without_expanding(tmp_path: Path) -> None:
    started = time.monotonic()
    items = list(parse_feed(LAUGHS, "https://x.example/rss"))
    assert time.monotonic() - started < 1
    assert len(items) == 1 and isinstance(items[0], Rejected)
    assert items[0].code == "bad_feed" and "declares XML entities" in items[0].reason
    items = list(parse_feed(LAUGHS.replace(b"</rss>", b"<unclosed>"), "https://x.example/rss"))  # broken too
    assert all(isinstance(i, Rejected) for i in items) and all(len(i.reason) < 1000 for i in items)


@pytest.mark.parametrize("broken", [False, True], ids=["well-formed", "not-well-formed"])
def test_external_entities_are_never_read(tmp_path: Path, broken: bool) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD")
    items = list(parse_feed(xxe(secret, broken), "https://x.example/rss"))
    assert "TOP-SECRET-PASSWORD" not in repr(items)
    if not broken:
        assert [(i.code, "external" in i.reason) for i in items if isinstance(i, Rejected)] == [("bad_feed", True)]


def test_a_slightly_broken_feed_is_read_not_refused() -> None:
    broken = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour & Sons</title>
<language>en</language>
<item><title>Tugs &amp; ferries&nbsp;wait</title><link>https://harbour.example/1</link>
<description>Ships queued off the port &mdash; again.</description><pubDate>Tue, 02 Apr 2024 10:00:00 GMT</pubDate>
<category>ports</category></item>
<item><title>Second story</title><link>https://harbour.example/2</link><description>Tugs <b>idle</description>
</item></channel>"""  # a bare &, HTML entities XML does not know, an unclosed <b>, no </rss>
    got = list(parse_feed(broken, "https://harbour.example/rss"))
    assert all(isinstance(a, Article) for a in got), got
    first, second = got
    assert isinstance(first, Article) and isinstance(second, Article)
    assert (first.title, first.body, first.url, first.section, first.source, first.published) == (
        "Tugs & ferries wait", "Ships queued off the port — again.", "https://harbour.example/1", "ports",
        "Harbour & Sons", "2024-04-02T10:00:00+00:00")
    assert (second.title, second.body) == ("Second story", "Tugs idle")


class Server:
    """A local HTTP server, answering in a thread of this test: ``handler(conn)`` writes the answer."""

    def __init__(self, handler: object) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"
        self.handler = handler
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                data += chunk
            with contextlib.suppress(OSError):
                self.handler(conn, self.stopping)  # type: ignore[operator]

    def close(self) -> None:
        self.stopping.set()
        self.sock.close()
        self.thread.join(5)


def trickle(conn: socket.socket, stopping: threading.Event) -> None:
    """Headers, then a byte of the body every second: no read ever waits more than a second."""
    body = rss([item(n) for n in range(1, 50)])
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode())
    for byte in body:
        if stopping.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(1)


def bomb(conn: socket.socket, stopping: threading.Event) -> None:
    """A gzip bomb: 50 MB of feed-looking bytes in about 50 kB."""
    body = gzip.compress(b"<rss>" + b" " * 50_000_000, compresslevel=9)
    assert len(body) < 100_000
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def gzipped(conn: socket.socket, stopping: threading.Event) -> None:
    body = gzip.compress(rss([item(1), item(2)]))
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


def test_a_trickling_server_is_cut_off_at_the_total_deadline(tmp_path: Path, servers: list[Server]) -> None:
    slow = Server(trickle)
    servers.append(slow)
    poller = FeedPoller(tmp_path, topic="t", timeout=3)
    started = time.monotonic()
    result = poller.poll(slow.url)
    took = time.monotonic() - started
    assert 2.5 < took < 6, took
    (rejected,) = result.items
    assert isinstance(rejected, Rejected) and rejected.code == "feed_error"
    assert "longer than its 3 s deadline" in rejected.reason


def test_the_size_cap_counts_decompressed_bytes(tmp_path: Path, servers: list[Server]) -> None:
    servers.extend([Server(bomb), Server(gzipped)])
    poller = FeedPoller(tmp_path, topic="t", max_bytes=1_000_000)
    started = time.monotonic()
    (rejected,) = poller.poll(servers[0].url).items
    assert time.monotonic() - started < 5
    assert isinstance(rejected, Rejected) and rejected.code == "feed_error"
    assert rejected.reason == "feed larger than 1000000 bytes once decompressed"
    good = poller.poll(servers[1].url)  # compression itself is fine
    assert [a.title for a in good.items if isinstance(a, Article)] == ["Story 1", "Story 2"]


class GoodFeed(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = rss([item(7), item(8)])
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.kafka
def test_a_slow_feed_holds_up_neither_the_other_feeds_nor_follow(kafka_settings: Settings, tmp_path: Path,
                                                                 servers: list[Server]) -> None:
    slow = Server(trickle)
    servers.append(slow)
    good = ThreadingHTTPServer(("127.0.0.1", 0), GoodFeed)
    threading.Thread(target=good.serve_forever, daemon=True).start()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text('{"title": "From a file", "body": "It was in the folder.", "url": "https://f/1"}\n')
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox), "--interval", "1",
           "--feed", slow.url, "--feed", f"http://127.0.0.1:{good.server_address[1]}/feed.xml",
           "--bootstrap-servers", kafka_settings.bootstrap_servers, "--topic", kafka_settings.topic,
           "--metrics-port", "-1", "--state-dir", str(tmp_path / "state")]
    env = {**os.environ, "NEWSSTREAM_FEED_TIMEOUT": "3"}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        got = articles_on(kafka_settings, 3)
        took = time.monotonic() - started
        (inbox / "b.jsonl").write_text('{"title": "Later file", "body": "It came later.", "url": "https://f/2"}\n')
        later = time.monotonic()
        assert "Later file" in {a.title for a in articles_on(kafka_settings, 4)}
        later_took = time.monotonic() - later
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
        good.shutdown()
        good.server_close()
    assert sorted(a.title for a in got) == ["From a file", "Story 7", "Story 8"]
    assert took < 20 and later_took < 15, (took, later_took)
    assert f"{slow.url}: rejected (feed_error): the fetch took longer than its 3 s deadline" in err
    assert proc.returncode == 0, err


@pytest.mark.kafka
def test_a_file_dropped_while_a_feed_trickles_is_sent_at_once_not_after_the_deadline(
        kafka_settings: Settings, tmp_path: Path, servers: list[Server]) -> None:
    """The feed's deadline is 30 s and its server sends a byte a second: `--follow` goes on reading
    files meanwhile, so a file dropped during the fetch is on the topic within seconds."""
    fetching = threading.Event()

    def slow(conn: socket.socket, stopping: threading.Event) -> None:
        fetching.set()
        trickle(conn, stopping)

    servers.append(Server(slow))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox), "--interval", "60",
           "--feed", servers[0].url, "--bootstrap-servers", kafka_settings.bootstrap_servers,
           "--topic", kafka_settings.topic, "--metrics-port", "-1", "--state-dir", str(tmp_path / "state")]
    env = {**os.environ, "NEWSSTREAM_FEED_TIMEOUT": "30"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert fetching.wait(30), "the feed was never fetched"
        dropped = inbox / "dropped.jsonl"
        dropped.write_text('{"title": "Dropped", "body": "It landed mid-fetch.", "url": "https://f/9"}\n')
        os.utime(dropped, (time.time() - 60, time.time() - 60))  # settled already: read at the next scan
        started = time.monotonic()
        (got,) = articles_on(kafka_settings, 1)
        took = time.monotonic() - started
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert got.title == "Dropped"
    assert took < 10, f"the file waited {took:.1f} s for the feed's fetch"
    assert proc.returncode == 0, err
