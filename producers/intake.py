"""What happens to each parsed input: sent (or skipped as a duplicate), or refused with its reason.

Refusals are reported as ``ORIGIN: rejected (REASON): why`` on stderr, counted per reason
in the summary and the metrics, and appended to the rejects file when one is given.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TextIO

from pipeline.article import Article
from pipeline.parsing import Rejected
from producers.producer import ArticleProducer, OnDone

SENT, DUPLICATE, REJECTED = "sent", "duplicate", "rejected"


class Intake:
    def __init__(self, producer: ArticleProducer, *, echo: Callable[[str], None],
                 rejects: TextIO | None = None) -> None:
        self.producer = producer
        self.echo = echo
        self.rejects = rejects
        self._lock = threading.Lock()

    def handle(self, item: Article | Rejected, *, source: str, on_done: OnDone | None = None) -> str:
        """Send an article or report a rejection; returns SENT, DUPLICATE or REJECTED."""
        if isinstance(item, Rejected):
            self.reject(item)
            return REJECTED
        with self._lock:  # the duplicate check and the send are one step for concurrent requests
            return SENT if self.producer.send(item, source=source, on_done=on_done) else DUPLICATE

    def reject(self, item: Rejected) -> None:
        with self._lock:
            self.echo(f"{item.origin}: rejected ({item.code}): {item.reason}")
            self.producer.reject(item.code)
            if self.rejects is not None:
                self.rejects.write(json.dumps({"origin": item.origin, "code": item.code,
                                               "reason": item.reason}, ensure_ascii=False) + "\n")
                self.rejects.flush()
