"""RSS/Atom polling with conditional GET (ETag / Last-Modified), its state kept under the state dir.

The validators of a feed are remembered only after its articles were delivered
(``FeedPoller.remember``), so a crash between fetch and delivery refetches rather than loses.

A fetch has one total deadline (``timeout``) covering connect, headers and body: a watchdog
shuts the connection down when it passes, so a server trickling a byte at a time cannot hold
the loop. The size cap (``max_bytes``) counts the bytes after decompression (gzip/deflate), so a
small compressed bomb is stopped at the cap. The deadline bounds the whole poll, parsing included:
items not read by then are left for the next poll. A ``FeedRound`` polls the feeds of a round at
once, each in its own thread, and hands over results as they finish: the ``--follow`` loop takes
them between two scans and never waits for a feed; a poll still running a moment past its deadline
(stuck in a name lookup, which no socket timeout covers) is given up, so a round never lasts
longer than one deadline, however many feeds are slow.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__, reasons
from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article
from pipeline.parsing.feeds import parse_feed
from pipeline.records import Refusal
from producers.intake import guarded

MAX_FEED_BYTES = 20_000_000
TIMEOUT = 30.0
GRACE = 1.0  # seconds past its deadline a round waits for a poll before giving it up


@dataclass
class FeedResult:
    url: str
    status: int  # HTTP status; 304 = not modified; 0 = could not fetch
    items: list[Article | Refusal] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


class FeedTooLarge(Exception):
    pass


class _Deadline:
    """Shuts down every connection of one fetch once its time is up (from a timer thread)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self.fire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.01, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock.dup())  # a duplicate: still valid once TLS wraps (detaches) the original
            expired = self.expired
        if expired:
            self.fire()

    def fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()


def _bounded(cls: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        conn = cls(*args, **kwargs)
        create = conn._create_connection  # type: ignore[attr-defined]

        def connect(address: Any, timeout: Any = None, source_address: Any = None) -> socket.socket:
            sock = create(address, min(deadline.remaining(), timeout or TIMEOUT), source_address)
            deadline.watch(sock)
            return sock

        conn._create_connection = connect  # type: ignore[attr-defined]
        return conn

    return make


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: Any) -> Any:
        return self.do_open(_bounded(http.client.HTTPConnection, self.deadline), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: Any) -> Any:
        return self.do_open(_bounded(http.client.HTTPSConnection, self.deadline), req,
                            context=self._context)  # type: ignore[attr-defined]


def _read_capped(response: Any, max_bytes: int, deadline: _Deadline) -> bytes:
    """The body, decompressed when the server compressed it; FeedTooLarge past ``max_bytes`` decompressed."""
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    inflate = (zlib.decompressobj(wbits=47) if encoding in ("gzip", "x-gzip")
               else zlib.decompressobj() if encoding == "deflate" else None)
    parts: list[bytes] = []
    size = 0
    while not deadline.expired:
        chunk = response.read(65536)
        if not chunk:
            break
        pending = chunk
        while pending:
            piece = inflate.decompress(pending, max_bytes + 1 - size) if inflate else pending
            size += len(piece)
            parts.append(piece)
            if size > max_bytes:
                raise FeedTooLarge(f"feed larger than {max_bytes} bytes" + (" once decompressed" if inflate else ""))
            pending = inflate.unconsumed_tail if inflate else b""
    if deadline.expired:
        raise TimeoutError("deadline")
    if inflate:
        parts.append(inflate.flush())
    return b"".join(parts)


class FeedPoller:
    def __init__(self, state_dir: str | Path, *, topic: str, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 languages: Collection[str] = (), timeout: float = TIMEOUT, fresh: bool = False,
                 max_bytes: int = MAX_FEED_BYTES) -> None:
        """``fresh``: forget the feeds' validators for this topic (it is empty: fetch everything).
        ``timeout``: the total deadline of one fetch; ``max_bytes``: the largest feed, decompressed."""
        self.path = Path(state_dir) / "feeds.json"
        self.topic = topic
        self.max_body_bytes = max_body_bytes
        self.languages = languages
        self.timeout = timeout
        self.max_bytes = max_bytes
        try:
            self.state: dict[str, dict[str, str]] = json.loads(self.path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            self.state = {}
        if fresh:
            self.state = {k: v for k, v in self.state.items() if not k.startswith(f"{topic} ")}

    def _key(self, url: str) -> str:
        return f"{self.topic} {url}"

    def poll(self, url: str) -> FeedResult:
        """Fetch ``url`` (conditionally when it was fetched before) and parse what changed."""
        known = self.state.get(self._key(url), {})
        headers = {"User-Agent": f"newsstream/{__version__}", "Accept-Encoding": "gzip, deflate",
                   "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        request = urllib.request.Request(url, headers=headers)
        deadline = _Deadline(self.timeout)
        opener = urllib.request.build_opener(_HTTP(deadline), _HTTPS(deadline))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                data = _read_capped(response, self.max_bytes, deadline)
                status, etag = response.status, response.headers.get("ETag")
                modified = response.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return FeedResult(url, 304)
            return FeedResult(url, exc.code, [Refusal(url, reasons.FEED_ERROR, f"HTTP {exc.code} {exc.reason}")])
        except FeedTooLarge as exc:
            return FeedResult(url, 0, [Refusal(url, reasons.FEED_ERROR, str(exc))])
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException, zlib.error) as exc:
            if deadline.expired:
                return FeedResult(url, 0, [Refusal(url, reasons.FEED_ERROR, f"the fetch took longer than its "
                                                    f"{self.timeout:g} s deadline; tried again at the next poll")])
            reason = getattr(exc, "reason", exc)
            return FeedResult(url, 0, [Refusal(url, reasons.FEED_ERROR, f"cannot fetch the feed: {reason}")])
        finally:
            deadline.close()
        return self._parsed(url, data, deadline, FeedResult(url, status, [], etag, modified))

    def _parsed(self, url: str, data: bytes, deadline: _Deadline, result: FeedResult) -> FeedResult:
        """The feed's items, read until the poll's deadline; past it, the rest waits for the next poll."""
        for item in guarded(parse_feed(data, url, max_body_bytes=self.max_body_bytes, languages=self.languages),
                            url):
            result.items.append(item)
            if time.monotonic() > deadline.at:
                result.items.append(Refusal(url, reasons.FEED_ERROR, f"the feed took longer than its "
                                            f"{self.timeout:g} s deadline to read: {len(result.items)} items read, "
                                            "the rest at the next poll"))
                result.status, result.etag, result.last_modified = 0, None, None  # not done: fetched again
                break
        return result

    def poll_all(self, urls: Sequence[str]) -> list[FeedResult]:
        """``poll`` every URL at once, results in the order given: the round lasts at most one deadline."""
        return FeedRound(self, urls).wait()

    def remember(self, result: FeedResult) -> None:
        """Keep the validators of a fetched feed (call once its articles were delivered)."""
        if result.status != 200 or not (result.etag or result.last_modified):
            return
        entry = {k: v for k, v in (("etag", result.etag), ("last_modified", result.last_modified)) if v}
        self.state[self._key(result.url)] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.state, indent=1), "utf-8")
        tmp.replace(self.path)


class FeedRound:
    """One poll of every feed, all at once, each in a daemon thread (one stuck in a name lookup
    never holds the process at exit)."""

    def __init__(self, poller: FeedPoller, urls: Sequence[str]) -> None:
        self.poller, self.urls = poller, list(urls)
        self.give_up_at = time.monotonic() + poller.timeout + GRACE
        self._results: dict[int, FeedResult] = {}
        self._taken: set[int] = set()
        self._changed = threading.Condition()
        for number, url in enumerate(self.urls):
            threading.Thread(target=self._poll, args=(number, url), name=f"feed-{number}", daemon=True).start()

    def _poll(self, number: int, url: str) -> None:
        result = self.poller.poll(url)
        with self._changed:
            self._results.setdefault(number, result)
            self._changed.notify_all()

    @property
    def done(self) -> bool:
        return len(self._taken) == len(self.urls)

    def finished(self, *, wait: bool = False) -> list[FeedResult]:
        """The results not handed over yet, in the order of the URLs (``wait``: all of them, once every
        poll ended or the round's time is up); a poll still running past its deadline is refused."""
        with self._changed:
            while wait and len(self._results) < len(self.urls) and time.monotonic() < self.give_up_at:
                self._changed.wait(max(0.01, self.give_up_at - time.monotonic()))
            if time.monotonic() >= self.give_up_at:
                for number, url in enumerate(self.urls):
                    self._results.setdefault(number, self._overdue(url))
            ready = sorted(set(self._results) - self._taken)
            self._taken.update(ready)
            return [self._results[n] for n in ready]

    def wait(self) -> list[FeedResult]:
        return self.finished(wait=True)

    def _overdue(self, url: str) -> FeedResult:
        return FeedResult(url, 0, [Refusal(url, reasons.FEED_ERROR, f"the poll took longer than its "
                                           f"{self.poller.timeout:g} s deadline (still connecting?); "
                                           "tried again at the next poll")])
