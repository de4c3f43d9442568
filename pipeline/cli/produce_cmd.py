"""`newsstream produce`: articles from files, directories (once or --follow), feeds or stdin onto the topic."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

from pipeline.article import Article
from pipeline.bus.clients import ensure_topic
from pipeline.cli.common import handle_errors, kafka_options, metrics_option, serve_metrics, settings
from pipeline.errors import BrokerUnavailable
from pipeline.metrics import Metrics
from pipeline.parsing import Rejected, read_articles
from pipeline.parsing.jsonrecords import check_field_map
from producers.feeds import FeedPoller
from producers.follow import DirectoryFollower
from producers.intake import Intake, guarded
from producers.producer import ArticleProducer, topic_is_empty, topic_message_limit
from producers.progress import ProgressBar, estimate_records
from producers.seen import SeenStore

FOLLOW_SCAN_SECONDS = 1.0
FEED_INTERVAL_WITH_FOLLOW = 300.0


def parse_field_map(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours or not theirs:
            raise click.BadParameter(f"{pair!r}: expected OURS=THEIRS, e.g. body=content", param_hint="--field")
        out[ours.strip()] = theirs.strip()
    return out


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@click.command()
@click.argument("paths", nargs=-1)
@kafka_options
@click.option("--feed", "feeds", multiple=True, metavar="URL", help="an RSS or Atom feed to read (repeatable)")
@click.option("--interval", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="poll the feeds again every SECONDS until stopped (default: read them once; "
                   f"{FEED_INTERVAL_WITH_FOLLOW:.0f} with --follow)")
@click.option("--follow", is_flag=True,
              help="keep watching PATHs and send new or changed files as they land, until SIGTERM/SIGINT")
@click.option("--field", "fields", multiple=True, metavar="OURS=THEIRS",
              help="map an input key to an article field, e.g. --field body=content (repeatable)")
@click.option("--rejects", type=click.File("a"), help="append rejected inputs as JSON lines to this file")
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="accept only articles detected (or declared) in this language, e.g. en (repeatable); "
                   "default: every language, flagged in the `language` field")
@click.option("--max-body-bytes", type=click.IntRange(min=1), help="largest accepted body "
              "[env NEWSSTREAM_MAX_BODY_BYTES]")
@click.option("--state-dir", type=click.Path(file_okay=False), help="seen-set, followed files and feed "
              "validators live here [env NEWSSTREAM_STATE_DIR]")
@click.option("--resend", is_flag=True, help="send again articles the seen-set says were sent before "
              "(duplicates within this run are still skipped)")
@click.option("--partitions", type=int, help="partitions when the topic is created [env NEWSSTREAM_PARTITIONS]")
@click.option("--compression", type=click.Choice(["gzip", "lz4", "zstd", "none"]),
              help="message compression [env NEWSSTREAM_COMPRESSION]")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@click.option("--metrics-port", type=int, help="port of /metrics, 0 = any free port, -1 = off "
              "[env NEWSSTREAM_PRODUCER_METRICS_PORT, default 9106]")
@handle_errors
def produce(paths: tuple[str, ...], bootstrap_servers: str | None, topic: str | None, feeds: tuple[str, ...],
            interval: float | None, follow: bool, fields: tuple[str, ...], rejects: Any,
            languages: tuple[str, ...], max_body_bytes: int | None, state_dir: str | None, resend: bool,
            partitions: int | None, compression: str | None, progress: bool | None,
            metrics_port: int | None) -> None:
    """Send articles to Kafka: plain-text files in the seed's format, JSON lines/arrays, directories,
    RSS/Atom feeds (--feed URL), or - for stdin.

    Each article is validated, given its stable id (the Kafka key) and sent with acks=all.
    Articles sent before (the seen-set under --state-dir) or twice in a run are skipped as
    duplicates. Bad input is reported as ORIGIN: rejected (REASON): why on stderr and counted;
    the rest goes on. Ends with a summary line: sent, duplicates, rejected (by reason), delivery failures.
    """
    if not paths and not feeds:
        raise click.UsageError("give PATH..., - for stdin, or --feed URL")
    if follow and "-" in paths:
        raise click.UsageError("--follow watches files and directories, not stdin")
    if interval is not None and not feeds:
        raise click.UsageError("--interval is how often --feed URLs are polled; give --feed (or --follow "
                               "for directories)")
    field_map = check_field_map(parse_field_map(fields))
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, partitions=partitions,
                 compression=compression, producer_metrics_port=metrics_port, max_body_bytes=max_body_bytes,
                 state_dir=state_dir)
    metrics = Metrics()
    serve_metrics(metrics, s, s.producer_metrics_port)
    created = ensure_topic(s)
    seen = SeenStore.in_dir(s.state_dir, topic=s.topic, max_ids=s.seen_max)
    fresh = created or topic_is_empty(s)  # new, or deleted and created again: the state dir is stale
    if fresh and seen.forget_topic():
        click.echo(f"topic {s.topic} is empty: forgetting what {s.state_dir} says was sent to it", err=True)
    producer = ArticleProducer(s, metrics=metrics, seen=seen, resend=resend, **topic_message_limit(s))
    intake = Intake(producer, echo=lambda line: click.echo(line, err=True), rejects=rejects)
    signal.signal(signal.SIGTERM, _interrupt)
    looping = follow or interval is not None  # until SIGTERM/SIGINT
    show = (sys.stderr.isatty() if progress is None else progress) and bool(paths) and not follow

    def read(some: list[str]) -> Iterator[tuple[str, Article | Rejected]]:
        for path in some:
            items = read_articles([path], field_map=field_map, max_body_bytes=s.max_body_bytes,
                                  stdin=sys.stdin.buffer, on_warning=_warn, languages=languages)
            for item in guarded(items, path):
                yield ("stdin" if path == "-" else "file"), item

    interrupted = False
    try:
        if paths and not follow:
            with ProgressBar(show, estimate_records(paths) if show else None,
                             force_terminal=bool(progress)) as bar:
                for source, item in read(list(paths)):
                    intake.handle(item, source=source)
                    bar.advance()
        follower = DirectoryFollower(paths, s.state_dir, topic=s.topic, fresh=fresh) if follow else None
        poller = (FeedPoller(s.state_dir, topic=s.topic, max_body_bytes=s.max_body_bytes, languages=languages,
                             fresh=fresh) if feeds else None)
        feed_every = interval if interval is not None else FEED_INTERVAL_WITH_FOLLOW
        next_feed_poll = 0.0
        while True:
            if follower is not None:
                _scan(follower, read, intake, producer)
            if poller is not None and time.monotonic() >= next_feed_poll:
                next_feed_poll = time.monotonic() + feed_every
                for url in feeds:
                    _poll(poller, url, intake, producer)
            if not looping:
                break
            # With --follow the loop turns every second (feeds are polled when due); else at the next poll.
            wait = FOLLOW_SCAN_SECONDS if follower is not None else next_feed_poll - time.monotonic()
            producer.poll(max(0.05, wait))  # serve delivery callbacks while waiting
    except KeyboardInterrupt:
        interrupted = True
        click.echo("stopping: flushing what was queued", err=True)
    except BrokerUnavailable:  # the broker takes nothing more: a short last wait, then the one-line error
        producer.close(timeout=s.producer_max_block_seconds)
        raise
    finally:
        stats = producer.close()
    click.echo(stats.summary())
    if stats.failed or (interrupted and not looping):
        sys.exit(1)


def _delivered(producer: ArticleProducer, failed_before: int) -> bool:
    """Flush; True when everything sent since the failure count was ``failed_before`` was acknowledged."""
    return producer.flush() == 0 and producer.stats.failed == failed_before


def _scan(follower: DirectoryFollower, read: Any, intake: Intake, producer: ArticleProducer) -> None:
    for path, sig in follower.scan():
        click.echo(f"reading {path}", err=True)
        failed_before = producer.stats.failed
        for source, item in read([path]):
            intake.handle(item, source=source)
        if _delivered(producer, failed_before):
            follower.mark_done(path, sig)
        else:  # read again when it changes, or after a restart
            click.echo(f"{path}: not every article was delivered; the file stays pending", err=True)
            follower.mark_failed(path, sig)


def _poll(poller: FeedPoller, url: str, intake: Intake, producer: ArticleProducer) -> None:
    result = poller.poll(url)
    if result.status == 304:
        click.echo(f"{url}: not modified", err=True)
        return
    failed_before = producer.stats.failed
    for item in result.items:
        intake.handle(item, source="feed")
    if _delivered(producer, failed_before):
        poller.remember(result)
