"""HTTP push: `POST /articles` (one JSON article, a JSON array or JSON lines) onto the topic.

Answers 202 once the broker acknowledged every article of the request, with their ids (a
duplicate still being delivered for an earlier request is waited for: 202 means it is on the topic);
400 (nothing usable: each reason listed), 411, 413 (over the size limit), 415 (not JSON or text),
503 (Kafka did not acknowledge, or takes nothing more: send them again). ``GET /healthz`` and ``GET /metrics`` too.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from collections.abc import Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pipeline.article import Article
from pipeline.errors import BrokerUnavailable
from pipeline.metrics import Metrics
from pipeline.parsing import Rejected, parse_bytes
from producers.intake import DUPLICATE, Intake, guarded

JSON_TYPES = {"application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
              "application/x-jsonlines", "application/json-lines"}
TEXT_TYPES = {"text/plain"}  # one article in the seed's plain-text format
DELIVERY_TIMEOUT = 60.0


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


class IngestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], intake: Intake, metrics: Metrics, *,
                 max_request_bytes: int, max_body_bytes: int, languages: Collection[str] = (),
                 delivery_timeout: float = DELIVERY_TIMEOUT) -> None:
        super().__init__(address, _Handler)
        self.delivery_timeout = delivery_timeout
        self.intake = intake
        self.metrics = metrics
        self.max_request_bytes = max_request_bytes
        self.max_body_bytes = max_body_bytes
        self.languages = languages
        self.numbers = itertools.count(1)
        self._poller = threading.Thread(target=self._poll, name="delivery-poll", daemon=True)
        self._stopping = threading.Event()

    def start(self) -> threading.Thread:
        """Serve in a thread, with a second one serving Kafka's delivery callbacks."""
        self._poller.start()
        thread = threading.Thread(target=self.serve_forever, name="ingest-http", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._stopping.set()
        self._poller.join(timeout=5)

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self.intake.producer.poll(0.1)

    def ingest(self, data: bytes, name: str) -> tuple[int, dict[str, Any]]:
        """202 only once every new article of the request is on the topic, and every duplicate too
        (one still in flight from another request is waited for); else 503 and the client retries."""
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

    def _one(self, item: Article | Rejected, request: _Request, ids: list[str], duplicates: list[str],
             rejected: list[dict[str, str]]) -> None:
        if isinstance(item, Rejected):
            self.intake.reject(item)
            rejected.append(_why(item))
            return
        request.expect()  # answered by the producer, whatever the outcome
        outcome = self.intake.handle(item, source="http", on_done=functools.partial(request.answered, item.id))
        if isinstance(outcome, Rejected):  # refused before it was sent: no answer will come
            request.answered(None, None)
            rejected.append(_why(outcome))
            return
        ids.append(item.id)
        if outcome == DUPLICATE:
            duplicates.append(item.id)


def _why(item: Rejected) -> dict[str, str]:
    return {"origin": item.origin, "code": item.code, "reason": item.reason}


class _Handler(BaseHTTPRequestHandler):
    server: IngestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # stderr chatter off; the summary says enough
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n")

    def _refuse(self, status: int, code: str, error: str) -> None:
        self.server.intake.producer.reject(code)
        self.close_connection = True
        self._json(status, {"error": error, "code": code})

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._json(200, {"status": "ok"})
        elif self.path == "/metrics":
            self._send(200, generate_latest(self.server.metrics.registry), CONTENT_TYPE_LATEST)
        else:
            self._json(404, {"error": f"no such resource {self.path}; POST /articles, GET /healthz, GET /metrics"})

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/articles":
            self.close_connection = True
            self._json(404, {"error": f"no such resource {self.path}; POST /articles"})
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES | TEXT_TYPES:
            self._refuse(415, "unsupported_media_type",
                         f"Content-Type {content_type or '(none)'!r} is not supported; "
                         "send application/json, application/x-ndjson or text/plain")
            return
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self.close_connection = True
            self._json(411, {"error": "a Content-Length header is required"})
            return
        length = int(length_header)
        if length > self.server.max_request_bytes:
            self._refuse(413, "request_too_large",
                         f"request body is {length} bytes, over the limit of {self.server.max_request_bytes}")
            return
        data = self.rfile.read(length)
        number = next(self.server.numbers)
        if not data.strip():
            self._refuse(400, "empty_request", "the request body is empty")
            return
        if content_type in JSON_TYPES and data.lstrip()[:1] not in (b"{", b"["):
            self._refuse(400, "bad_json", "the request body is not JSON (expected an object, an array "
                         "or JSON lines)")
            return
        status, answer = self.server.ingest(data, f"request {number}")
        self._json(status, answer)
