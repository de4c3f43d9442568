"""`newsstream serve-ingest`: an HTTP endpoint that puts pushed articles onto the topic."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

import click

from pipeline.bus.clients import ensure_topic
from pipeline.cli.common import handle_errors, kafka_options, settings
from pipeline.metrics import Metrics
from producers.http_ingest import IngestServer
from producers.intake import Intake
from producers.producer import ArticleProducer, topic_is_empty, topic_message_limit
from producers.seen import SeenStore


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@click.command(name="serve-ingest")
@kafka_options
@click.option("--host", help="address to bind [env NEWSSTREAM_INGEST_HOST, default 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), help="port, 0 = a free one "
              "[env NEWSSTREAM_INGEST_PORT, default 8088]")
@click.option("--max-request-bytes", type=click.IntRange(min=1), help="largest request body, 413 above it "
              "[env NEWSSTREAM_INGEST_MAX_REQUEST_BYTES]")
@click.option("--max-body-bytes", type=click.IntRange(min=1), help="largest accepted article body "
              "[env NEWSSTREAM_MAX_BODY_BYTES]")
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="accept only articles in this language, e.g. en (repeatable)")
@click.option("--rejects", type=click.File("a"), help="append rejected articles as JSON lines to this file")
@click.option("--state-dir", type=click.Path(file_okay=False), help="where the seen-set lives "
              "[env NEWSSTREAM_STATE_DIR]")
@click.option("--partitions", type=int, help="partitions when the topic is created [env NEWSSTREAM_PARTITIONS]")
@click.option("--compression", type=click.Choice(["gzip", "lz4", "zstd", "none"]),
              help="message compression [env NEWSSTREAM_COMPRESSION]")
@handle_errors
def serve_ingest(bootstrap_servers: str | None, topic: str | None, host: str | None, port: int | None,
                 max_request_bytes: int | None, max_body_bytes: int | None, languages: tuple[str, ...],
                 rejects: Any, state_dir: str | None, partitions: int | None, compression: str | None) -> None:
    """Accept articles over HTTP: POST /articles with one JSON article, a JSON array or JSON lines
    (Content-Type application/json or application/x-ndjson; text/plain for one seed-format article).

    Answers 202 {"ids": [...]} once Kafka acknowledged them (duplicates are listed, not resent);
    400 with each rejection's reason, 413 over the size limit, 415 for other content types,
    503 when Kafka did not acknowledge. GET /healthz and GET /metrics on the same port.
    Binds to 127.0.0.1 unless told otherwise. Stops on SIGTERM/SIGINT, flushing what was queued.
    """
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, ingest_host=host, ingest_port=port,
                 ingest_max_request_bytes=max_request_bytes, max_body_bytes=max_body_bytes, state_dir=state_dir,
                 partitions=partitions, compression=compression)
    created = ensure_topic(s)
    metrics = Metrics()
    seen = SeenStore.in_dir(s.state_dir, topic=s.topic, max_ids=s.seen_max)
    if (created or topic_is_empty(s)) and seen.forget_topic():
        click.echo(f"topic {s.topic} is empty: forgetting what {s.state_dir} says was sent to it", err=True)
    producer = ArticleProducer(s, metrics=metrics, seen=seen, **topic_message_limit(s))
    intake = Intake(producer, echo=lambda line: click.echo(line, err=True), rejects=rejects)
    try:
        server = IngestServer((s.ingest_host, s.ingest_port), intake, metrics,
                              max_request_bytes=s.ingest_max_request_bytes, max_body_bytes=s.max_body_bytes,
                              languages={lang.lower() for lang in languages})
    except OSError as exc:
        producer.close()
        click.echo(f"newsstream: error: cannot listen on {s.ingest_host}:{s.ingest_port}: {exc.strerror}", err=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, _interrupt)
    server.start()
    bound_host, bound_port = str(s.ingest_host), server.server_address[1]
    click.echo(f"serving on http://{bound_host}:{bound_port} (POST /articles, GET /healthz, GET /metrics), "
               f"topic {s.topic}", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopping: flushing what was queued", err=True)
    finally:
        server.stop()
        stats = producer.close()
    click.echo(stats.summary())
    if stats.failed:
        sys.exit(1)
