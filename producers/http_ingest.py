"""HTTP push: `POST /articles` (one JSON article, a JSON array or JSON lines) onto the topic.

Answers 202 once the broker acknowledged every article of the request, with their ids (a
duplicate still being delivered for an earlier request is waited for: 202 means it is on the topic);
400 (nothing usable, or an empty request: each reason listed), 401 (no or wrong bearer token),
403 (an ``Origin`` not allowed), 405 (another method), 413 (over the size limit), 415 (not JSON
or text), 421 (a ``Host`` this server was not bound to), 503 (Kafka did not acknowledge, takes
nothing more, the delivery thread stopped, or too many connections: send them again).
``GET /healthz`` (the delivery thread's health: 503 once it stopped) and ``GET /metrics`` too.

Why waitress, and not the standard library's ``ThreadingHTTPServer`` or uvicorn + Starlette:
waitress is a maintained, pure-Python WSGI server with no dependencies of its own. It reads
requests in one event loop and hands a request to its thread pool only once the whole body has
arrived, so a client that sends half a request costs a socket, not a thread; its HTTP parser is
the hardened one many production sites run (request smuggling, header limits, chunked bodies),
and it closes idle keep-alive connections itself. The standard library server gives each
connection a thread with no timeout and no cap. uvicorn + Starlette would have meant two
libraries and an asyncio program around a blocking Kafka producer whose answers we wait for.
What waitress lacks is added here on its documented extension points (its server, channel and
error task classes): a total deadline per request (``timeout``: headers and body, so a client
trickling a byte at a time is closed too, not only an idle one), and a connection cap above
which a new connection is answered 503 with ``Retry-After`` instead of waiting in the backlog.

Access: with a token, ``POST /articles`` and ``GET /metrics`` need ``Authorization: Bearer
TOKEN`` (compared in constant time, never logged); ``/healthz`` stays open for load balancers.
The command refuses to bind anywhere but loopback without a token (``check_bind``).
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import ipaddress
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from pipeline import reasons
from pipeline.article import Article
from pipeline.errors import BrokerUnavailable, ConfigError
from pipeline.logs import get_logger
from pipeline.metrics import Metrics
from pipeline.parsing import parse_bytes
from pipeline.records import Refusal
from producers.intake import DUPLICATE, Intake, guarded

JSON_TYPES = {"application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
              "application/x-jsonlines", "application/json-lines"}
TEXT_TYPES = {"text/plain"}  # one article in the seed's plain-text format
DELIVERY_TIMEOUT = 60.0
TIMEOUT = 30.0
MAX_CONNECTIONS = 100
RETRY_AFTER = 5  # seconds, in the 503 answers that ask to come back
DELIVERY_GIVE_UP = 20  # consecutive failed polls after which the delivery thread stops (and /healthz says so)
_WILDCARDS = {"0.0.0.0", "::", ""}

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large", 415: "Unsupported Media Type",
            421: "Misdirected Request", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
            501: "Not Implemented", 503: "Service Unavailable"}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: bytes | None) -> None:
    """Refuse to serve anywhere but loopback without a token (ConfigError)."""
    if not token and not is_loopback(host):
        raise ConfigError(f"serve-ingest binds to {host}, beyond this machine: give a bearer token "
                          "(--token-file FILE or NEWSSTREAM_INGEST_TOKEN); clients then send "
                          "'Authorization: Bearer TOKEN'")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _host_name(header: str) -> str:
    """``Host`` without its port, lower-cased: ``[::1]:8088`` -> ``::1``, ``Example.org:80`` -> ``example.org``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _Request:
    """Waits for the broker's answers about the articles of one request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.waiting = 0
        self.failed: dict[str, str] = {}  # article id -> why Kafka did not take it

    def expect(self) -> None:
        with self.lock:
            self.waiting += 1

    def answered(self, article_id: str | None, error: str | None) -> None:
        with self.lock:
            self.waiting -= 1
            if error and article_id:
                self.failed[article_id] = error
            if self.waiting == 0:
                self.done.set()


class _Answer(Exception):
    """An HTTP answer decided before the request reaches the ingest (401, 403, 421...)."""

    def __init__(self, status: int, data: dict[str, Any], headers: Iterable[tuple[str, str]] = (),
                 code: str | None = None) -> None:
        super().__init__(status)
        self.status, self.data, self.headers, self.code = status, data, list(headers), code


class _ErrorTask(ErrorTask):
    """waitress's answers to requests it refuses itself (over the size limit, malformed), in our JSON."""

    def execute(self) -> None:
        error = self.request.error
        app: IngestServer = self.channel.server.application
        code = reasons.REQUEST_TOO_LARGE if error.code == 413 else None
        if code:
            app.intake.producer.reject(code)
            message = f"request body is over the limit of {app.max_request_bytes} bytes"
        else:
            message = f"{error.reason}: {error.body}"
        body = json.dumps({"error": message, **({"code": code} if code else {})}).encode() + b"\n"
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    """One connection; remembers when the request it is reading began (for the total deadline)."""

    error_task_class = _ErrorTask
    reading_since: float | None = None

    def received(self, data: bytes) -> bool:
        if data and self.request is None and self.reading_since is None:
            self.reading_since = time.time()
        result = super().received(data)
        if self.request is None:  # nothing half-read: the clock stops until the next request begins
            self.reading_since = None
        return bool(result)


class _Refusal(wasyncore.dispatcher):
    """A connection over the cap: answered 503 with Retry-After, then closed (what it sent is discarded)."""

    def __init__(self, sock: socket.socket, socket_map: dict[int, Any], answer: bytes) -> None:
        super().__init__(sock, map=socket_map)
        self.out = answer
        self.until = time.time() + 2.0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return bool(self.out)

    def handle_read(self) -> None:
        self.recv(65536)  # discarded; closes on end of stream

    def handle_write(self) -> None:
        sent = self.send(self.out)
        self.out = self.out[sent:]
        if not self.out:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_WR)

    def handle_close(self) -> None:
        self.close()


class _Server(TcpWSGIServer):
    channel_class = _Channel
    next_channel_cleanup: float = 0.0

    def __init__(self, app: IngestServer, *, host: str, port: int, timeout: float, max_connections: int,
                 max_request_bytes: int, threads: int) -> None:
        self.read_timeout = timeout
        self.max_connections = max_connections
        self.refusals: list[_Refusal] = []
        self.close_requested = False
        body = json.dumps({"error": f"too many connections (over {max_connections}); try again in "
                           f"{RETRY_AFTER} s", "code": reasons.TOO_MANY_CONNECTIONS}).encode() + b"\n"
        self.overflow_answer = (f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {RETRY_AFTER}\r\n"
                                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                                "Connection: close\r\n\r\n").encode() + body
        super().__init__(app, host=host, port=port, threads=threads, channel_timeout=max(1, round(timeout)),
                         cleanup_interval=max(1, round(min(timeout / 4, 30))), connection_limit=max_connections + 16,
                         max_request_body_size=max_request_bytes, ident="newsstream", expose_tracebacks=False,
                         asyncore_loop_timeout=0.25, asyncore_use_poll=True, clear_untrusted_proxy_headers=False)

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + min(self.adj.cleanup_interval, max(0.25, self.read_timeout / 4))
            self.maintenance(now)
        return bool(self.accepting)  # over the cap we still accept, to answer 503 (handle_accept)

    def handle_accept(self) -> None:
        if len(self.active_channels) < self.max_connections:
            super().handle_accept()
            return
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is None:
            return
        conn, _addr = accepted
        self.refusals = [r for r in self.refusals if r.connected]
        if len(self.refusals) >= self.max_connections:  # a flood: no answer, just close
            conn.close()
            return
        conn.setblocking(False)
        self.refusals.append(_Refusal(conn, self._map, self.overflow_answer))

    def maintenance(self, now: float) -> None:
        # channel_timeout: idle connections (keep-alive included) and requests stalled for that long
        super().maintenance(now)
        cutoff = now - self.read_timeout
        for channel in list(self.active_channels.values()):  # the total deadline: trickling does not help
            since = getattr(channel, "reading_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True
        for refusal in self.refusals:
            if refusal.connected and refusal.until < now:
                refusal.close()
        self.refusals = [r for r in self.refusals if r.connected]


class IngestServer:
    """The ingest endpoint: a WSGI application served by waitress in a thread, plus the thread
    that serves Kafka's delivery answers."""

    def __init__(self, address: tuple[str, int], intake: Intake, metrics: Metrics, *,
                 max_request_bytes: int, max_body_bytes: int, languages: Collection[str] = (),
                 delivery_timeout: float = DELIVERY_TIMEOUT, timeout: float = TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS, token: bytes | None = None,
                 allow_origins: Collection[str] = (), allow_hosts: Collection[str] = ()) -> None:
        host, port = address
        check_bind(host, token)
        self.delivery_timeout = delivery_timeout
        self.intake = intake
        self.metrics = metrics
        self.max_request_bytes = max_request_bytes
        self.max_body_bytes = max_body_bytes
        self.languages = languages
        self.numbers = itertools.count(1)
        self.token = token or None
        self.allow_origins = {o.rstrip("/").lower() for o in allow_origins}
        self.any_ip_host = host in _WILDCARDS
        self.hosts = {h.lower().strip("[]") for h in (host, *allow_hosts) if h not in _WILDCARDS}
        if is_loopback(host):
            self.hosts |= {"localhost", "127.0.0.1", "::1"}
        self.log = get_logger(component="serve-ingest")
        self._server = _Server(self, host=host, port=port, timeout=timeout, max_connections=max_connections,
                               max_request_bytes=max_request_bytes, threads=min(max_connections, 16))
        self.server_address = (host, int(self._server.effective_port))
        self._poller = threading.Thread(target=self._poll, name="delivery-poll", daemon=True)
        self._loop = threading.Thread(target=self._serve, name="ingest-http", daemon=True)
        self._stopping = threading.Event()
        self.delivery_error: str | None = None  # why the delivery thread stopped

    # --- running -----------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Serve in a thread, with a second one serving Kafka's delivery callbacks."""
        self._poller.start()
        self._loop.start()
        return self._loop

    def _serve(self) -> None:
        server, socket_map = self._server, self._server._map
        try:
            while not server.close_requested:
                wasyncore.loop(timeout=0.25, use_poll=True, map=socket_map, count=1)
        finally:
            wasyncore.close_all(socket_map)

    def stop(self) -> None:
        self._server.accepting = False
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self._server.close_requested = True
        with contextlib.suppress(OSError):
            self._server.pull_trigger()
        self._loop.join(timeout=5)
        self._stopping.set()
        self._poller.join(timeout=5)

    @property
    def delivering(self) -> bool:
        return self._poller.is_alive() and self.delivery_error is None

    def _poll(self) -> None:
        """Serve the broker's answers. A callback that raises is logged and the loop goes on; only a
        poll that keeps failing stops it, and then /healthz and POST answer 503 (restart the process)."""
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    self.intake.producer.poll(0.1)
                    failures = 0
                except Exception as exc:
                    failures += 1
                    self.log.error("serving delivery answers failed", error=f"{type(exc).__name__}: {exc}",
                                   attempt=failures)
                    if failures >= DELIVERY_GIVE_UP:
                        self.delivery_error = f"{type(exc).__name__}: {exc}"
                        return
                    time.sleep(min(1.0, 0.05 * failures))
        except BaseException as exc:
            self.delivery_error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if self.delivery_error:
                self.log.error("the delivery thread stopped", error=self.delivery_error)

    # --- the ingest --------------------------------------------------------------------------

    def ingest(self, data: bytes, name: str) -> tuple[int, dict[str, Any]]:
        """202 only once every new article of the request is on the topic, and every duplicate too
        (one still in flight from another request is waited for); else 503 and the client retries."""
        if not self.delivering:
            return 503, {"error": f"the delivery thread stopped ({self.delivery_error or 'not running'}); "
                         "nothing can be confirmed: send the articles again later"}
        request = _Request()
        request.expect()  # held until every article is queued, so 'done' cannot fire early
        ids: list[str] = []
        duplicates: list[str] = []
        rejected: list[dict[str, str]] = []
        try:
            items = parse_bytes(data, name, max_body_bytes=self.max_body_bytes, languages=self.languages)
            for item in guarded(items, name):
                self._one(item, request, ids, duplicates, rejected)
        except BrokerUnavailable as exc:  # the broker takes nothing more: do not wait for it
            return 503, {"error": f"{exc}; send the articles again", "failed": request.failed,
                         "rejected": rejected}
        request.answered(None, None)
        if not request.done.wait(self.delivery_timeout):
            return 503, {"error": "Kafka did not acknowledge the articles in time; send them again "
                         "(articles already delivered come back as duplicates)", "ids": ids}
        if request.failed:
            return 503, {"error": "Kafka did not take some articles; send them again (articles already "
                         "delivered come back as duplicates)", "failed": request.failed,
                         "ids": [i for i in ids if i not in request.failed], "rejected": rejected}
        if not ids:
            return 400, {"error": "no article in the request could be accepted", "rejected": rejected}
        return 202, {"ids": ids, "accepted": len(ids) - len(duplicates), "duplicates": duplicates,
                     "rejected": rejected}

    def _one(self, item: Article | Refusal, request: _Request, ids: list[str], duplicates: list[str],
             rejected: list[dict[str, str]]) -> None:
        if isinstance(item, Refusal):
            self.intake.reject(item)
            rejected.append(_why(item))
            return
        request.expect()  # answered by the producer, whatever the outcome
        outcome = self.intake.handle(item, source="http", on_done=functools.partial(request.answered, item.id))
        if isinstance(outcome, Refusal):  # refused before it was sent: no answer will come
            request.answered(None, None)
            rejected.append(_why(outcome))
            return
        ids.append(item.id)
        if outcome == DUPLICATE:
            duplicates.append(item.id)

    # --- HTTP --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            status, headers, body = self._route(environ)
        except _Answer as answer:
            if answer.code:
                self.intake.producer.reject(answer.code)
            status, headers, body = answer.status, answer.headers, _json(answer.data)
            headers.append(("Content-Type", "application/json"))
        start_response(f"{status} {_REASONS.get(status, '')}".strip(),
                       [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _route(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        self._check_host(environ.get("HTTP_HOST", ""))
        self._check_origin(environ.get("HTTP_ORIGIN"))
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET").upper()
        allowed = {"/articles": ("POST",), "/healthz": ("GET", "HEAD"), "/metrics": ("GET", "HEAD")}
        if path not in allowed:
            raise _Answer(404, {"error": f"no such resource {path}; POST /articles, GET /healthz, GET /metrics"})
        if method not in allowed[path]:
            raise _Answer(405, {"error": f"{method} {path} is not allowed; use {' or '.join(allowed[path])}"},
                          [("Allow", ", ".join(allowed[path]))])
        if path == "/healthz":
            if self.delivering:
                return 200, [("Content-Type", "application/json")], _json({"status": "ok", "delivery": "running"})
            return 503, [("Content-Type", "application/json"), ("Retry-After", str(RETRY_AFTER))], _json(
                {"status": "unhealthy", "delivery": f"stopped: {self.delivery_error or 'not running'}"})
        self._check_token(environ.get("HTTP_AUTHORIZATION"))
        if path == "/metrics":
            return 200, [("Content-Type", CONTENT_TYPE_LATEST)], generate_latest(self.metrics.registry)
        status, answer = self._post(environ)
        return status, [("Content-Type", "application/json")], _json(answer)

    def _check_host(self, header: str) -> None:
        name = _host_name(header)
        if name in self.hosts or (self.any_ip_host and _is_ip(name)):
            return
        raise _Answer(421, {"error": f"this server does not answer for host {header!r} "
                            "(give its name with --allow-host)"}, code=reasons.MISDIRECTED_REQUEST)

    def _check_origin(self, origin: str | None) -> None:
        if origin is not None and origin.rstrip("/").lower() not in self.allow_origins:
            raise _Answer(403, {"error": f"requests from origin {origin!r} are not allowed "
                                "(--allow-origin lists the ones that are)"}, code=reasons.FORBIDDEN_ORIGIN)

    def _check_token(self, header: str | None) -> None:
        if self.token is None:
            return
        scheme, _, given = (header or "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8", "replace"),
                                                                self.token)
        if not ok:
            raise _Answer(401, {"error": "a valid bearer token is required (Authorization: Bearer TOKEN)"},
                          [("WWW-Authenticate", 'Bearer realm="newsstream"')], code=reasons.UNAUTHORIZED)

    def _post(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES | TEXT_TYPES:
            raise _Answer(415, {"error": f"Content-Type {content_type or '(none)'!r} is not supported; "
                                "send application/json, application/x-ndjson or text/plain",
                                "code": reasons.UNSUPPORTED_MEDIA_TYPE}, code=reasons.UNSUPPORTED_MEDIA_TYPE)
        data = environ["wsgi.input"].read()  # waitress has it all already, within max_request_bytes
        number = next(self.numbers)
        if not data.strip():
            raise _Answer(400, {"error": "the request body is empty", "code": reasons.EMPTY_REQUEST},
                          code=reasons.EMPTY_REQUEST)
        if content_type in JSON_TYPES and data.lstrip()[:1] not in (b"{", b"["):
            raise _Answer(400, {"error": "the request body is not JSON (expected an object, an array or JSON "
                                "lines)", "code": reasons.BAD_JSON}, code=reasons.BAD_JSON)
        return self.ingest(data, f"request {number}")


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"


def _why(item: Refusal) -> dict[str, str]:
    return {"origin": item.origin, "code": item.code, "reason": item.reason}
