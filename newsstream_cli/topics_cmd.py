"""`newsstream topics create|list`."""

from __future__ import annotations

import click

from newsstream_cli.common import FORMATS, emit, handle_errors, kafka_options, settings
from pipeline.bus.clients import dlq_topic, ensure_topic, topic_partitions


@click.group()
def topics() -> None:
    """Create and list Kafka topics."""


@topics.command()
@kafka_options
@click.option("--partitions", type=int, help="partition count [env NEWSSTREAM_PARTITIONS]")
@handle_errors
def create(bootstrap_servers: str | None, topic: str | None, partitions: int | None) -> None:
    """Create the article topic and its dead-letter topic (<topic>.dlq) when missing."""
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, partitions=partitions)
    for name in (s.topic, dlq_topic(s.topic)):
        created = ensure_topic(s, name)
        click.echo(f"{'created' if created else 'exists '} {name}")


@topics.command(name="list")
@kafka_options
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def list_(bootstrap_servers: str | None, topic: str | None, fmt: str) -> None:
    """List topics with their partition counts."""
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic)
    rows = [{"topic": t, "partitions": n} for t, n in sorted(topic_partitions(s).items())]
    emit(rows, fmt, title="topics")
