"""`newsstream consume`: consumer workers from the topic into the database."""

from __future__ import annotations

import sys

import click

from pipeline.bus.clients import dlq_topic, ensure_topic
from pipeline.cli.common import db_option, handle_errors, kafka_options, metrics_option, settings


@click.command()
@kafka_options
@db_option
@metrics_option
@click.option("--group", help="consumer group [env NEWSSTREAM_GROUP]")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes in the group; worker i serves /metrics on the metrics port + i")
@click.option("--until-idle", type=float, metavar="SECONDS", help="stop after this long without messages")
@click.option("--max-articles", type=int, metavar="N", help="stop after N messages (per worker)")
@click.option("--batch-size", type=int, help="messages per batch [env NEWSSTREAM_BATCH_SIZE]")
@click.option("--model", "spacy_model", help="spaCy model [env NEWSSTREAM_SPACY_MODEL]")
@click.option("--from-beginning/--from-latest", default=True, show_default=True,
              help="where a new consumer group starts reading")
@click.option("--retry-seconds", type=float, default=300.0, show_default=True,
              help="how long to retry an unavailable database or broker before giving up on a batch")
@click.option("--shutdown-timeout", type=float, default=30.0, show_default=True,
              help="seconds a signalled worker may take to finish its batch before it exits anyway")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="upgrade the database schema before consuming")
@click.option("--keep-all-events", is_flag=True, help="store events with no named actor or target too")
@handle_errors
def consume(bootstrap_servers: str | None, topic: str | None, database_url: str | None, metrics_port: int | None,
            group: str | None, workers: int, until_idle: float | None, max_articles: int | None,
            batch_size: int | None, spacy_model: str | None, from_beginning: bool, retry_seconds: float,
            shutdown_timeout: float, migrate: bool, keep_all_events: bool) -> None:
    """Read articles from Kafka, extract entities and events with spaCy, write them to the database.

    Each batch is extracted with nlp.pipe and written in one transaction; only then are the
    Kafka offsets committed, so a crash means redelivery, never loss, and rewrites are idempotent.
    Messages that cannot be decoded or extracted go to <topic>.dlq with headers saying why.
    SIGTERM/SIGINT finishes the batch and exits; a second signal exits at once.
    """
    from consumers.runner import WorkerOptions, run_worker
    from consumers.supervisor import supervise
    from pipeline.store.db import upgrade

    flags = {k: v for k, v in dict(bootstrap_servers=bootstrap_servers, topic=topic, database_url=database_url,
                                   metrics_port=metrics_port, group=group, batch_size=batch_size,
                                   spacy_model=spacy_model).items() if v is not None}
    s = settings(**flags)
    if migrate:
        upgrade(s.database_url_with_password())
    ensure_topic(s)
    ensure_topic(s, dlq_topic(s.topic))
    opts = WorkerOptions(until_idle=until_idle, max_articles=max_articles, keep_all_events=keep_all_events,
                         from_beginning=from_beginning, db_retry_seconds=retry_seconds,
                         shutdown_timeout=shutdown_timeout)
    if workers > 1:
        sys.exit(supervise(workers, flags, opts))
    stats = run_worker(flags, opts, announce=True)
    click.echo(f"consumed {stats.consumed}, stored {stats.processed}, dead-lettered {stats.dead_lettered}, "
               f"batches {stats.batches}")
