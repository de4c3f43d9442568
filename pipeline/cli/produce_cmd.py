"""`newsstream produce PATH... | -`: articles from files, directories or stdin onto the topic."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

from pipeline.article import Article
from pipeline.bus.clients import ensure_topic
from pipeline.cli.common import handle_errors, kafka_options, metrics_option, serve_metrics, settings
from pipeline.metrics import Metrics
from pipeline.parsing import Rejected, read_articles
from producers.producer import ArticleProducer


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


@click.command()
@click.argument("paths", nargs=-1, required=True)
@kafka_options
@click.option("--field", "fields", multiple=True, metavar="OURS=THEIRS",
              help="map an input key to an article field, e.g. --field body=content (repeatable)")
@click.option("--rejects", type=click.File("a"), help="append rejected inputs as JSON lines to this file")
@click.option("--partitions", type=int, help="partitions when the topic is created [env NEWSSTREAM_PARTITIONS]")
@click.option("--compression", type=click.Choice(["gzip", "lz4", "zstd", "snappy", "none"]),
              help="message compression [env NEWSSTREAM_COMPRESSION]")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@metrics_option
@handle_errors
def produce(paths: tuple[str, ...], bootstrap_servers: str | None, topic: str | None, fields: tuple[str, ...],
            rejects: Any, partitions: int | None, compression: str | None, progress: bool | None,
            metrics_port: int | None) -> None:
    """Send articles to Kafka: plain-text files in the seed's format, JSON lines/arrays, directories, or - for stdin.

    Each article is validated, given its stable id (the Kafka key) and sent with acks=all.
    Bad input is reported as FILE:LINE: reason on stderr and counted; the rest goes on.
    Ends with a summary line: sent, duplicates, rejected (by reason), delivery failures.
    """
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, partitions=partitions,
                 compression=compression, metrics_port=metrics_port)
    metrics = Metrics()
    serve_metrics(metrics, s)
    ensure_topic(s)
    producer = ArticleProducer(s, metrics=metrics)
    signal.signal(signal.SIGTERM, _interrupt)
    show = sys.stderr.isatty() if progress is None else progress
    field_map = parse_field_map(fields)

    def items() -> Iterator[tuple[str, Article | Rejected]]:
        for path in paths:
            source = "stdin" if path == "-" else "file"
            for item in read_articles([path], field_map=field_map, max_body_bytes=s.max_body_bytes,
                                      stdin=sys.stdin.buffer,
                                      on_warning=lambda w: click.echo(f"warning: {w}", err=True)):
                yield source, item

    interrupted = False
    try:
        if show:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} articles"),
                          TimeElapsedColumn(), transient=True) as bar:
                task = bar.add_task("producing")
                for source, item in items():
                    _one(source, item, producer, rejects)
                    bar.advance(task)
        else:
            for source, item in items():
                _one(source, item, producer, rejects)
    except KeyboardInterrupt:
        interrupted = True
        click.echo("interrupted: flushing what was queued", err=True)
    finally:
        stats = producer.close()
    click.echo(stats.summary())
    if stats.failed or interrupted:
        sys.exit(1)


def _one(source: str, item: Article | Rejected, producer: ArticleProducer, rejects: Any) -> None:
    if isinstance(item, Rejected):
        click.echo(f"{item.origin}: rejected ({item.code}): {item.reason}", err=True)
        producer.reject(item.code)
        if rejects is not None:
            rejects.write(json.dumps({"origin": item.origin, "code": item.code, "reason": item.reason}) + "\n")
        return
    producer.send(item, source=source)
