"""What happens to each parsed input: sent (or skipped as a duplicate), or refused with its reason.

Refusals are reported as ``ORIGIN: rejected (REASON): why`` on stderr, counted per reason
in the summary and the metrics, and appended to the rejects file when one is given. An article
that cannot be encoded is refused like one that could not be parsed: the loop goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from pipeline.article import Article
from pipeline.errors import InvalidArticle, NewsstreamError
from pipeline.parsing import Rejected
from producers.producer import ArticleProducer, OnDone

SENT, DUPLICATE = "sent", "duplicate"


class Intake:
    def __init__(self, producer: ArticleProducer, *, echo: Callable[[str], None],
                 rejects: TextIO | None = None) -> None:
        self.producer = producer
        self.echo = echo
        self.rejects = rejects
        self._lock = threading.Lock()

    def handle(self, item: Article | Rejected, *, source: str, origin: str | None = None,
               on_done: OnDone | None = None) -> str | Rejected:
        """Send an article or report a rejection; returns SENT, DUPLICATE or the Rejected.

        ``on_done`` (articles only) is called once the article's fate is known: see ArticleProducer.send.
        Raises BrokerUnavailable (ProducerStalled) when the broker takes nothing more.
        """
        if isinstance(item, Rejected):
            self.reject(item)
            return item
        try:
            return SENT if self.producer.send(item, source=source, on_done=on_done) else DUPLICATE
        except InvalidArticle as exc:
            rejected = Rejected(origin or f"article {item.id}", exc.code, exc.reason)
            self.reject(rejected)
            return rejected

    def reject(self, item: Rejected) -> None:
        origin, reason = _printable(item.origin), _printable(item.reason)
        with self._lock:
            self.echo(f"{origin}: rejected ({item.code}): {reason}")
            self.producer.reject(item.code)
            if self.rejects is not None:
                self.rejects.write(json.dumps({"origin": origin, "code": item.code, "reason": reason},
                                              ensure_ascii=False) + "\n")
                self.rejects.flush()


def _printable(text: str) -> str:
    """Text that can be written anywhere: what is not valid Unicode (a lone surrogate) is escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def guarded(items: Iterable[Article | Rejected], origin: str) -> Iterator[Article | Rejected]:
    """The items of one input; a parser that fails on it rejects the rest of that input, not the run."""
    try:
        yield from items
    except NewsstreamError:  # our own errors (a bad setting...) are not this input's fault
        raise
    except Exception as exc:
        yield Rejected(origin, "parse_error", f"cannot read the rest of it: {type(exc).__name__}: {exc}")
