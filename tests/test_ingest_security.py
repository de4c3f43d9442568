"""`serve-ingest` facing a network, against the real broker: bearer token, Origin, Host, timeouts,
the connection cap, the refusal to bind beyond loopback without a token, the delivery thread's
health, and the bounded in-memory seen set."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings, load_settings
from pipeline.metrics import Metrics
from producers.http_ingest import IngestServer
from producers.intake import Intake
from producers.producer import ArticleProducer
from producers.seen import SeenStore
from tests.test_ingest_http import Ingest, story
from tests.test_produce import ROOT, articles_on, topic_size

pytestmark = pytest.mark.kafka
TOKEN = "s3cret-token-for-tests"


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def http(url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, str], Any]:
    """One request with exactly these headers (Host too): status, headers, the JSON answer (or text)."""
    host, port = address(url)
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in {
        "Host": f"{host}:{port}", "Connection": "close", **({"Content-Length": str(len(body))} if body else {}),
        **(headers or {})}.items())]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    got = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    is_json = got.get("content-type", "").startswith("application/json")
    return int(status_line.split()[1]), got, json.loads(payload) if is_json else payload.decode()


def post(url: str, payload: Any, headers: dict[str, str] | None = None,
         content_type: str = "application/json") -> tuple[int, dict[str, str], Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return http(url, "POST", "/articles", body, {"Content-Type": content_type, **(headers or {})})


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes the connection within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset: closed too
        return True
    return True


def test_it_refuses_to_bind_beyond_loopback_without_a_token(kafka_settings: Settings, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "newsstream_cli", "serve-ingest", "--host", "0.0.0.0", "--port", "0",
           "--state-dir", str(tmp_path), "--bootstrap-servers", kafka_settings.bootstrap_servers]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "serving on" not in res.stderr
    assert "binds to 0.0.0.0, beyond this machine: give a bearer token" in res.stderr


def test_a_token_is_required_checked_and_never_printed(kafka_settings: Settings, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    server = Ingest(kafka_settings, tmp_path / "state", "--host", "0.0.0.0", "--token-file", str(token_file))
    url = server.url.replace("0.0.0.0", "127.0.0.1")
    try:
        status, headers, answer = post(url, story(1))
        assert status == 401 and headers["www-authenticate"].startswith("Bearer")
        assert "bearer token is required" in answer["error"]
        assert post(url, story(1), {"Authorization": "Bearer wrong-token"})[0] == 401
        assert post(url, story(1), {"Authorization": f"Basic {TOKEN}"})[0] == 401
        assert http(url, "GET", "/metrics")[0] == 401
        assert http(url, "GET", "/healthz")[0] == 200  # open: load balancers probe it
        status, _, answer = post(url, story(1), {"Authorization": f"Bearer {TOKEN}"})
        assert status == 202 and answer["accepted"] == 1
        status, _, metrics = http(url, "GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and 'newsstream_articles_rejected_total{reason="unauthorized"} 4.0' in metrics
    finally:
        out, err = server.stop()
    assert TOKEN not in out + err and "wrong-token" not in out + err
    assert [a.title for a in articles_on(kafka_settings, 1)] == ["Story 1"]


def test_the_token_can_come_from_the_environment(kafka_settings: Settings, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_INGEST_TOKEN", TOKEN)
    server = Ingest(kafka_settings, tmp_path / "state")
    try:
        assert post(server.url, story(1))[0] == 401
        assert post(server.url, story(1), {"Authorization": f"Bearer {TOKEN}"})[0] == 202
    finally:
        out, err = server.stop()
    assert TOKEN not in out + err


def test_a_cross_site_post_and_a_foreign_host_are_refused(kafka_settings: Settings, tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state", "--allow-origin", "https://desk.example",
                    "--allow-host", "ingest.example")
    seed = b"date 2024-06-02 World\n\nA lead.\n\nMINSK - The body.\n"
    try:
        status, _, answer = post(server.url, seed, {"Origin": "http://evil.example"}, "text/plain")
        assert status == 403 and "http://evil.example" in answer["error"]
        status, _, answer = post(server.url, story(1), {"Host": "evil.example"})  # DNS rebinding
        assert status == 421 and "evil.example" in answer["error"]
        assert http(server.url, "GET", "/healthz", headers={"Host": "rebind.attacker.example:8088"})[0] == 421
        assert topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) == 0
        assert post(server.url, story(1), {"Origin": "https://desk.example"})[0] == 202
        assert post(server.url, story(2), {"Host": "ingest.example"})[0] == 202
        port = address(server.url)[1]
        assert post(server.url, story(3), {"Host": f"localhost:{port}"})[0] == 202
    finally:
        server.stop()
    assert sorted(a.title for a in articles_on(kafka_settings, 3)) == ["Story 1", "Story 2", "Story 3"]


def test_slow_and_idle_connections_are_closed_after_the_timeout(kafka_settings: Settings, tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state", "--timeout", "2")
    host, port = address(server.url)
    try:
        half = []  # headers and half a body, then nothing: the finding's 40 connections
        for _ in range(40):
            sock = socket.create_connection((host, port), timeout=10)
            sock.sendall(f"POST /articles HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                         "Content-Length: 200\r\n\r\n".encode() + b'{"title": "half')
            half.append(sock)
        trickle = socket.create_connection((host, port), timeout=10)  # a byte every 0.4 s: never idle
        started = time.monotonic()
        request = f"POST /articles HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 100\r\n\r\n".encode()
        closed = False
        for byte in request + b"x" * 100:
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.4)
            if time.monotonic() - started > 12:
                break
        assert closed or closed_by_server(trickle, 1), "a trickling client was held past the deadline"
        assert time.monotonic() - started < 8
        assert all(closed_by_server(sock, 6) for sock in half)
        idle = socket.create_connection((host, port), timeout=10)  # keep-alive, then silence
        idle.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        assert b"200 OK" in idle.recv(65536)
        assert closed_by_server(idle, 6)
        assert post(server.url, story(1))[0] == 202  # the server itself is fine
    finally:
        server.stop()


def test_connections_over_the_cap_get_503_with_retry_after(kafka_settings: Settings, tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state", "--max-connections", "5")
    host, port = address(server.url)
    try:
        held = [socket.create_connection((host, port), timeout=10) for _ in range(5)]
        for sock in held:
            sock.sendall(f"POST /articles HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())  # headers unfinished
        time.sleep(0.5)
        status, headers, answer = post(server.url, story(1))
        assert status == 503 and headers["retry-after"] == "5" and answer["code"] == "too_many_connections"
        for sock in held:
            sock.close()
        deadline = time.monotonic() + 10
        while (status := post(server.url, story(1))[0]) == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 202
    finally:
        server.stop()


def test_the_in_memory_seen_set_is_bounded_like_the_one_on_disk(kafka_settings: Settings, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_SEEN_MAX", "3")
    server = Ingest(kafka_settings, tmp_path / "state")
    try:
        for n in range(1, 6):
            assert post(server.url, story(n))[2]["accepted"] == 1
        assert post(server.url, story(5))[2]["duplicates"]  # remembered
        assert post(server.url, story(1))[2]["accepted"] == 1  # forgotten: sent again, as the README says
    finally:
        server.stop()


class InProcess:
    """serve-ingest's server in this process, with a real producer on the real broker, so that a
    fault can be injected into its delivery thread."""

    def __init__(self, settings: Settings, state: Path) -> None:
        self.seen = SeenStore.in_dir(state, topic=settings.topic)
        self.producer = ArticleProducer(settings, metrics=Metrics(), seen=self.seen)
        self.server = IngestServer(("127.0.0.1", 0), Intake(self.producer, echo=lambda line: None), Metrics(),
                                   max_request_bytes=100_000, max_body_bytes=10_000, delivery_timeout=5)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def health(self) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=30) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def close(self) -> None:
        self.server.stop()
        self.producer.close()


class SmallDisk:
    """A 1 MB tmpfs mounted for the test (as root, as CI runs): the state directory lives on it, and
    ``fill`` fills it for real, as a full disk does, until ``free``."""

    def __init__(self, where: Path) -> None:
        self.root = where
        self.root.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            why = f"cannot mount a small tmpfs to fill ({done.stderr.strip() or 'not root'})"
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
        self.filler = where / "filler"

    def fill(self) -> None:
        with self.filler.open("ab", buffering=0) as out:
            for size in (65536, 4096, 512, 1):  # down to the last byte
                with contextlib.suppress(OSError):  # ENOSPC: the disk is full
                    while True:
                        out.write(b"\0" * size)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.root)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "disk")
    try:
        yield disk
    finally:
        disk.unmount()


def test_a_delivery_callback_that_raises_does_not_stop_the_server(kafka_settings: Settings,
                                                                   small_disk: SmallDisk) -> None:
    """The disk of the seen-set fills while an article is delivered: writing its id fails in the
    delivery thread; once there is room again, the server goes on (nothing is mocked)."""
    server = InProcess(kafka_settings, small_disk.root / "state")
    try:
        small_disk.fill()
        post(server.url, story(1))  # delivered; writing its id failed: its answer may be 202 or 503
        small_disk.free()
        status, _, answer = post(server.url, story(2))
        assert status == 202 and answer["accepted"] == 1
        assert server.health() == (200, {"status": "ok", "delivery": "running"})
        sent = articles_on(kafka_settings, 2)
        assert sorted(a.title for a in sent) == ["Story 1", "Story 2"]
        assert all(a.id in server.seen for a in sent)  # the id whose write failed was kept, written later
    finally:
        server.close()


def test_healthz_turns_unhealthy_when_the_delivery_thread_dies(kafka_settings: Settings,
                                                               small_disk: SmallDisk) -> None:
    """The disk stays full: every poll of the delivery thread fails to write the seen-set, and it
    stops; /healthz says why, and a POST is refused rather than sent without an answer to give."""
    server = InProcess(kafka_settings, small_disk.root / "state")
    try:
        assert server.health()[0] == 200
        small_disk.fill()
        post(server.url, story(1))  # delivered to the topic; its id cannot be written
        deadline = time.monotonic() + 60
        while server.health()[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        status, answer = server.health()
        assert status == 503 and answer["status"] == "unhealthy"
        assert answer["delivery"] == "stopped: OperationalError: database or disk is full"
        status, _, answer = post(server.url, story(2))
        assert status == 503 and "delivery thread stopped" in answer["error"]
    finally:
        small_disk.free()
        server.close()
    assert topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) == 1  # story 2 was never sent


def test_settings_hide_the_token() -> None:
    s = load_settings(ingest_token=TOKEN)
    assert TOKEN not in repr(s) and TOKEN not in json.dumps(s.public(), default=str)
