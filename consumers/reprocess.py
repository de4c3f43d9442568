"""Re-extract stored articles without going through the producer (backfill after an extractor upgrade).

Each chunk is extracted with nlp.pipe and written in one transaction; the writer replaces an
article's mentions and events, so running it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from pipeline.config import NLP_BATCH_SIZE, default_of
from pipeline.extract import EXTRACTOR_VERSION, extract_articles
from pipeline.store.stored import iter_articles
from pipeline.store.writer import write_batch


@dataclass
class ReprocessStats:
    read: int = 0
    rewritten: int = 0
    unchanged: int = 0
    refused: int = 0


def _chunks(it: Iterator[Any], n: int) -> Iterator[list[Any]]:
    while chunk := list(islice(it, n)):
        yield chunk


DEFAULT_BATCH_SIZE: int = default_of("batch_size")  # articles per transaction, as the consumer's


def reprocess(engine: Any, nlp: Any, *, since: date | None = None, source: str | None = None,
              outdated_only: bool = False, batch_size: int = DEFAULT_BATCH_SIZE, keep_all_events: bool = False,
              named_only: bool = False, on_chunk: Callable[[int], None] | None = None,
              nlp_batch_size: int = NLP_BATCH_SIZE) -> ReprocessStats:
    stats = ReprocessStats()
    rows = iter_articles(engine, since=since, source=source,
                         not_version=EXTRACTOR_VERSION if outdated_only else None)
    for chunk in _chunks(rows, batch_size):
        positions = {a.id: p for a, p in chunk}
        extracted = extract_articles(nlp, [a for a, _p in chunk], batch_size=nlp_batch_size,
                                     keep_all_events=keep_all_events, named_only=named_only)
        items = [(a, x, positions[a.id]) for a, x in extracted]
        written = write_batch(engine, items, extractor_version=EXTRACTOR_VERSION)
        stats.read += len(chunk)
        stats.rewritten += written.articles
        stats.unchanged += written.unchanged
        stats.refused += len(written.rejected)
        if on_chunk:
            on_chunk(len(chunk))
    return stats


def reprocess_stories(engine: Any) -> Any:
    """Reassign every stored article to a story (publication order, one transaction), after a change of
    the ``story_*`` settings; no re-extraction. Returns the story stats (``new``, ``joined``, ``merges``)."""
    from pipeline.store.db import IMMEDIATE, translate_errors
    from pipeline.store.stories import reassign_all

    with translate_errors(str(engine.url)), engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            return reassign_all(conn)
