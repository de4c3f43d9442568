"""RSS/Atom polling with conditional GET (ETag / Last-Modified), its state kept under the state dir.

The validators of a feed are remembered only after its articles were delivered
(``FeedPoller.remember``), so a crash between fetch and delivery refetches rather than loses.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import __version__
from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article
from pipeline.parsing.feeds import parse_feed
from pipeline.parsing.reader import Rejected
from producers.intake import guarded

MAX_FEED_BYTES = 20_000_000
TIMEOUT = 30.0


@dataclass
class FeedResult:
    url: str
    status: int  # HTTP status; 304 = not modified; 0 = could not fetch
    items: list[Article | Rejected] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


class FeedPoller:
    def __init__(self, state_dir: str | Path, *, topic: str, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 languages: Collection[str] = (), timeout: float = TIMEOUT, fresh: bool = False) -> None:
        """``fresh``: forget the feeds' validators for this topic (it is empty: fetch everything)."""
        self.path = Path(state_dir) / "feeds.json"
        self.topic = topic
        self.max_body_bytes = max_body_bytes
        self.languages = languages
        self.timeout = timeout
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
        headers = {"User-Agent": f"newsstream/{__version__}",
                   "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = response.read(MAX_FEED_BYTES + 1)
                status, etag = response.status, response.headers.get("ETag")
                modified = response.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return FeedResult(url, 304)
            return FeedResult(url, exc.code, [Rejected(url, "feed_error", f"HTTP {exc.code} {exc.reason}")])
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return FeedResult(url, 0, [Rejected(url, "feed_error", f"cannot fetch the feed: {reason}")])
        if len(data) > MAX_FEED_BYTES:
            return FeedResult(url, status, [Rejected(url, "feed_error",
                                                     f"feed larger than {MAX_FEED_BYTES} bytes")])
        items = list(guarded(parse_feed(data, url, max_body_bytes=self.max_body_bytes, languages=self.languages),
                             url))
        return FeedResult(url, status, items, etag, modified)

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
