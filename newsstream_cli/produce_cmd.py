"""`newsstream produce`: articles from files, directories (once or --follow), feeds or stdin onto the topic."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

from newsstream_cli.common import (
    emit_summary,
    fail,
    handle_errors,
    kafka_options,
    log_options,
    serve_metrics,
    settings,
    summary_option,
)
from pipeline import reasons
from pipeline.article import Article
from pipeline.bus.clients import ensure_topic
from pipeline.config import choices_of, default_of
from pipeline.errors import BrokerUnavailable
from pipeline.logs import say
from pipeline.metrics import Metrics
from pipeline.parsing import read_articles
from pipeline.parsing.jsonrecords import check_field_map
from pipeline.records import Refusal
from producers import watch
from producers.feeds import FeedPoller
from producers.follow import DirectoryFollower
from producers.intake import Intake, guarded
from producers.producer import ArticleProducer, topic_is_empty, topic_message_limit
from producers.progress import ProgressBar, estimate_records
from producers.seen import SeenStore

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
    say(f"warning: {message}", event="input_warning", level="warning", warning=message)


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
@click.option("--compression", type=click.Choice(choices_of("compression")),
              help="message compression [env NEWSSTREAM_COMPRESSION]")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@click.option("--metrics-port", type=int, help="port of /metrics, 0 = any free port, -1 = off "
              f"[env NEWSSTREAM_PRODUCER_METRICS_PORT, default {default_of('producer_metrics_port')}]")
@click.option("--scrape-wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="at the end, wait up to this long for a first scrape when Prometheus has not read /metrics "
                   "yet, so a short bulk load shows on the dashboard; 0 = exit at once (a scraped producer always "
                   "waits for one last scrape, at most a few seconds) [env NEWSSTREAM_PRODUCER_SCRAPE_WAIT, default "
                   f"{default_of('producer_scrape_wait'):g}]")
@log_options
@summary_option
@handle_errors
def produce(paths: tuple[str, ...], bootstrap_servers: str | None, topic: str | None, feeds: tuple[str, ...],
            interval: float | None, follow: bool, fields: tuple[str, ...], rejects: Any,
            languages: tuple[str, ...], max_body_bytes: int | None, state_dir: str | None, resend: bool,
            partitions: int | None, compression: str | None, progress: bool | None,
            metrics_port: int | None, scrape_wait: float | None, summary_format: str) -> None:
    """Send articles to Kafka: plain-text files in the seed's format, JSON lines/arrays, directories,
    RSS/Atom feeds (--feed URL), or - for stdin.

    Each article is validated, given its stable id (the Kafka key) and sent with acks=all.
    Articles sent before (the seen-set under --state-dir) or twice in a run are skipped as
    duplicates. Bad input is reported as ORIGIN: rejected (REASON): why on stderr and counted;
    the rest goes on. Ends with a summary line: sent, duplicates, rejected (by reason), delivery failures.
    """
    _check_usage(paths, feeds, follow, interval)
    field_map = check_field_map(parse_field_map(fields))
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, partitions=partitions,
                 compression=compression, producer_metrics_port=metrics_port, max_body_bytes=max_body_bytes,
                 state_dir=state_dir, producer_scrape_wait=scrape_wait)
    metrics = Metrics()
    serve_metrics(metrics, s, s.producer_metrics_port)
    producer, fresh = _producer(s, metrics, resend)
    intake = Intake(producer, echo=say, rejects=rejects)
    signal.signal(signal.SIGTERM, _interrupt)
    read = _reader(field_map, s.max_body_bytes, languages)
    interrupted = False
    try:
        if paths and not follow:
            _read_once(paths, read, intake, progress)
        watch.run(_watch(s, paths, feeds, interval, follow, fresh, languages, intake), read, intake, producer, say)
    except KeyboardInterrupt:
        interrupted = True
        say("stopping: flushing what was queued", event="stopping_flush")
    except BrokerUnavailable:  # the broker takes nothing more: a short last wait, then the one-line error
        producer.close(timeout=s.producer_max_block_seconds)
        raise
    finally:
        stats = producer.close()
    looping = follow or interval is not None  # until SIGTERM/SIGINT
    _finish(s, metrics, stats, summary_format, looping, interrupted)


def _reader(field_map: dict[str, str], max_body_bytes: int, languages: tuple[str, ...]) -> watch.Read:
    """What reads paths (- for stdin): each article, or the refusal of a bad input, with its source."""
    def read(some: list[str]) -> Iterator[tuple[str, Article | Refusal]]:
        for path in some:
            items = read_articles([path], field_map=field_map, max_body_bytes=max_body_bytes,
                                  stdin=sys.stdin.buffer, on_warning=_warn, languages=languages)
            for item in guarded(items, path):
                yield ("stdin" if path == "-" else "file"), item
    return read


def _read_once(paths: tuple[str, ...], read: watch.Read, intake: Intake, progress: bool | None) -> None:
    """The paths given, read once and sent, with a progress bar (default: when stderr is a terminal)."""
    show = sys.stderr.isatty() if progress is None else progress
    with ProgressBar(show, estimate_records(paths) if show else None, force_terminal=bool(progress)) as bar:
        for source, item in read(list(paths)):
            intake.handle(item, source=source)
            bar.advance()


def _check_usage(paths: tuple[str, ...], feeds: tuple[str, ...], follow: bool, interval: float | None) -> None:
    if not paths and not feeds:
        raise click.UsageError("give PATH..., - for stdin, or --feed URL")
    if follow and "-" in paths:
        raise click.UsageError("--follow watches files and directories, not stdin")
    if interval is not None and not feeds:
        raise click.UsageError("--interval is how often --feed URLs are polled; give --feed (or --follow "
                               "for directories)")


def _producer(s: Any, metrics: Metrics, resend: bool) -> tuple[ArticleProducer, bool]:
    """The producer, and whether the topic is new or empty (then the state dir's seen-set is stale)."""
    created = ensure_topic(s)
    seen = SeenStore.in_dir(s.state_dir, topic=s.topic, max_ids=s.seen_max)
    fresh = created or topic_is_empty(s)  # new, or deleted and created again: the state dir is stale
    if fresh and seen.forget_topic():
        say(f"topic {s.topic} is empty: forgetting what {s.state_dir} says was sent to it", event="seen_forgotten",
            topic=s.topic, state_dir=str(s.state_dir))
    return ArticleProducer(s, metrics=metrics, seen=seen, resend=resend, **topic_message_limit(s)), fresh


def _watch(s: Any, paths: tuple[str, ...], feeds: tuple[str, ...], interval: float | None, follow: bool,
           fresh: bool, languages: tuple[str, ...], intake: Intake) -> watch.Watch:
    """What ``--follow`` and ``--feed`` watch after the paths given were read once."""
    follower = (DirectoryFollower(paths, s.state_dir, topic=s.topic, fresh=fresh, settle=s.follow_settle_seconds,
                                  max_file_bytes=s.follow_max_file_bytes, on_refused=intake.reject)
                if follow else None)
    poller = (FeedPoller(s.state_dir, topic=s.topic, max_body_bytes=s.max_body_bytes, languages=languages,
                         fresh=fresh, timeout=s.feed_timeout, max_bytes=s.feed_max_bytes) if feeds else None)
    feed_every = interval if interval is not None else FEED_INTERVAL_WITH_FOLLOW
    return watch.Watch(follower, poller, feeds, feed_every, follow or interval is not None)


def _finish(s: Any, metrics: Metrics, stats: Any, summary_format: str, looping: bool, interrupted: bool) -> None:
    """The summary, the last scrape, and the exit code: 1 when nothing was sent for want of input."""
    if s.producer_metrics_port >= 0:  # set before the summary: a scrape right after it reads the stop
        metrics.stopping_gauge.set(1)
    emit_summary(stats.as_dict(), summary_format, stats.summary())
    if s.producer_metrics_port >= 0:  # the final counts reach Prometheus, and the stop reads as deliberate
        metrics.stopping(unscraped_timeout=s.producer_scrape_wait)
    missing = stats.rejected[reasons.NOT_FOUND] + stats.rejected[reasons.UNREADABLE]
    if missing and not looping and not stats.sent and not stats.duplicates:  # a typo in a path is no success
        fail(f"newsstream: error: nothing was sent: {missing} input(s) not found or unreadable", missing=missing)
    if stats.failed or (interrupted and not looping):
        sys.exit(1)
