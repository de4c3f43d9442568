"""What happens to each parsed input: sent (or skipped as a duplicate), or refused with its reason.

Refusals are reported as ``ORIGIN: rejected (REASON): why`` on stderr, counted per reason
in the summary and the metrics, and appended to the rejects file when one is given. An article
that cannot be encoded is refused like one that could not be parsed: the loop goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TextIO

from pipeline import reasons
from pipeline.article import Article
from pipeline.errors import InvalidArticle, NewsstreamError
from pipeline.records import Refusal
from producers.producer import ArticleProducer, OnDone

SENT, DUPLICATE = "sent", "duplicate"


class Intake:
    def __init__(self, producer: ArticleProducer, *, echo: Callable[..., None],
                 rejects: TextIO | None = None) -> None:
        self.producer = producer
        self.echo = echo
        self.rejects = rejects
        self._lock = threading.Lock()

    def handle(self, item: Article | Refusal, *, source: str, origin: str | None = None,
               on_done: OnDone | None = None) -> str | Refusal:
        """Send an article or report a rejection; returns SENT, DUPLICATE or the Refusal.

        ``on_done`` (articles only) is called once the article's fate is known: see ArticleProducer.send.
        Raises BrokerUnavailable (ProducerStalled) when the broker takes nothing more.
        """
        if isinstance(item, Refusal):
            self.reject(item)
            return item
        try:
            return SENT if self.producer.send(item, source=source, on_done=on_done) else DUPLICATE
        except InvalidArticle as exc:
            rejected = replace(exc.refusal, origin=origin or f"article {item.id}", raw=_article_text(item))
            self.reject(rejected)
            return rejected

    def reject(self, item: Refusal) -> None:
        origin, reason = _printable(item.origin), _printable(item.reason)
        with self._lock:
            self.echo(f"{origin}: rejected ({item.code}): {reason}", event="article_rejected", level="warning",
                      origin=origin, code=item.code, reason=reason)
            self.producer.reject(item.code)
            if self.rejects is not None:
                self.rejects.write(_rejects_line(origin, item) + "\n")
                self.rejects.flush()


def _rejects_line(origin: str, item: Refusal) -> str:
    """One JSON line: origin, code, reason and (when there is one) the rejected input itself, so it
    can be fixed and sent again; text that is not valid Unicode is written as JSON escapes."""
    record = {"origin": origin, "code": item.code, "reason": _printable(item.reason)}
    if item.raw is not None:
        record["input"] = item.raw
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: \udXXX escapes, which read back to the same text
        line = json.dumps(record)
    return line


def _article_text(article: Article) -> str:
    return json.dumps(article.model_dump(mode="json", exclude_none=True))


def _printable(text: str) -> str:
    """Text that can be written anywhere: what is not valid Unicode (a lone surrogate) is escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def guarded(items: Iterable[Article | Refusal], origin: str) -> Iterator[Article | Refusal]:
    """The items of one input; a parser that fails on it rejects the rest of that input, not the run."""
    try:
        yield from items
    except NewsstreamError:  # our own errors (a bad setting...) are not this input's fault
        raise
    except Exception as exc:
        yield Refusal(origin, reasons.PARSE_ERROR, f"cannot read the rest of it: {type(exc).__name__}: {exc}")
