"""The loop of `produce --follow` and `produce --feed [--interval]`: files as they land, feeds when due.

Feeds are polled in the background (``FeedRound``): their results are sent between two scans
of the folders, so a slow feed never delays a file. A file or a feed counts as done (remembered
in the state dir) only once every article read from it was acknowledged; otherwise it stays
pending and is read again when it changes, or after a restart.
Runs until the caller's KeyboardInterrupt (SIGTERM/SIGINT), or one round when not looping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.article import Article
from pipeline.records import Refusal
from producers.feeds import FeedPoller, FeedResult, FeedRound
from producers.follow import DirectoryFollower
from producers.intake import Intake
from producers.producer import ArticleProducer

SCAN_SECONDS = 1.0  # how often --follow looks at its folders
Read = Callable[[list[str]], Iterator[tuple[str, Article | Refusal]]]
Echo = Callable[..., None]  # pipeline.logs.say: a message, its event name, fields


@dataclass
class Watch:
    follower: DirectoryFollower | None
    poller: FeedPoller | None
    feeds: Sequence[str]
    feed_every: float  # seconds between two polls of the feeds
    looping: bool  # until interrupted (else one round)


def run(watch: Watch, read: Read, intake: Intake, producer: ArticleProducer, echo: Echo) -> None:
    next_feed_poll = 0.0
    current: FeedRound | None = None
    while True:
        if watch.follower is not None:
            scan(watch.follower, read, intake, producer, echo)
        if watch.poller is not None:
            if current is None and time.monotonic() >= next_feed_poll:
                next_feed_poll = time.monotonic() + watch.feed_every
                current = FeedRound(watch.poller, watch.feeds)  # in the background: files go on meanwhile
            if current is not None:
                # Only a loop with nothing else to do waits for the feeds (never longer than a deadline).
                for result in current.finished(wait=watch.follower is None or not watch.looping):
                    poll(watch.poller, result, intake, producer, echo)
                current = None if current.done else current
        if not watch.looping and current is None:
            return
        # With --follow the loop turns every second (feeds are polled when due); else at the next poll.
        wait = SCAN_SECONDS if watch.follower is not None else next_feed_poll - time.monotonic()
        producer.poll(max(0.05, wait))  # serve delivery callbacks while waiting


def delivered(producer: ArticleProducer, failed_before: int) -> bool:
    """Wait for the answers (ProducerStalled when the broker gives none for the block time); True when
    everything sent since the failure count was ``failed_before`` was acknowledged."""
    return producer.drain() == 0 and producer.stats.failed == failed_before


def send_all(items: Iterable[Any], intake: Intake, source: str | None = None) -> None:
    for item in items:
        src, art = item if source is None else (source, item)
        intake.handle(art, source=src)


def scan(follower: DirectoryFollower, read: Read, intake: Intake, producer: ArticleProducer, echo: Echo) -> None:
    for path, sig in follower.scan():
        echo(f"reading {path}", event="file_reading", path=str(path))
        failed_before = producer.stats.failed
        send_all(read([path]), intake)
        if delivered(producer, failed_before):
            follower.mark_done(path, sig)
        else:  # read again when it changes, or after a restart
            echo(f"{path}: not every article was delivered; the file stays pending", event="file_pending",
                 level="warning", path=str(path))
            follower.mark_failed(path, sig)


def poll(poller: FeedPoller, result: FeedResult, intake: Intake, producer: ArticleProducer, echo: Echo) -> None:
    if result.status == 304:
        echo(f"{result.url}: not modified", event="feed_not_modified", url=result.url)
        return
    failed_before = producer.stats.failed
    send_all(result.items, intake, source="feed")
    if delivered(producer, failed_before):
        poller.remember(result)
