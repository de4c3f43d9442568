"""`newsstream consume`: consumer workers from the topic into the database."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import click

from newsstream_cli.common import (
    db_option,
    emit_summary,
    fail,
    handle_errors,
    kafka_options,
    log_options,
    metrics_option,
    settings,
    summary_option,
)
from pipeline.bus.clients import dlq_topic, ensure_topic


@click.command()
@kafka_options
@db_option
@metrics_option
@log_options
@summary_option
@click.option("--group", help="consumer group [env NEWSSTREAM_GROUP]")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes in the group; worker i serves /metrics on the metrics port + i")
@click.option("--until-idle", type=float, metavar="SECONDS",
              help="stop once caught up (the group has nothing left to read) for this long; exits non-zero if "
                   "no partition was assigned within the session timeout plus SECONDS")
@click.option("--instance-id", help="static group membership id (default: host name and worker index); a "
              "restarted worker with the same id gets its partitions back at once [env NEWSSTREAM_INSTANCE_ID]")
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
@click.option("--keep-all-events", is_flag=True, help="store events with no named or agent actor or target too")
@click.option("--named-events-only", is_flag=True,
              help="only events with a named actor or target (default: named or an agent such as 'police')")
@click.option("--max-restarts", type=click.IntRange(min=1), default=5, show_default=True, metavar="K",
              help="with --workers > 1: give up (stop every worker, exit 1) when one crashes K times within "
                   "--restart-window")
@click.option("--restart-window", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              metavar="MINUTES", help="the window of --max-restarts")
@click.option("--supervisor-metrics-port", type=int, metavar="PORT",
              help="with --workers > 1: port of the supervisor's /metrics (newsstream_worker_restarts_total); "
                   "default: the metrics port - 1 when the metrics port is > 0, else none; 0 = any free port, "
                   "-1 = off")
@handle_errors
def consume(bootstrap_servers: str | None, topic: str | None, database_url: str | None, metrics_port: int | None,
            group: str | None, workers: int, until_idle: float | None, instance_id: str | None,
            max_articles: int | None,
            batch_size: int | None, spacy_model: str | None, from_beginning: bool, retry_seconds: float,
            shutdown_timeout: float, migrate: bool, keep_all_events: bool, named_events_only: bool, max_restarts: int,
            restart_window: float, supervisor_metrics_port: int | None, summary_format: str) -> None:
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
                                   spacy_model=spacy_model, instance_id=instance_id).items() if v is not None}
    s = settings(**flags)
    if migrate:
        upgrade(s.database_url_with_password())
    ensure_topic(s)
    ensure_topic(s, dlq_topic(s.topic))
    opts = WorkerOptions(until_idle=until_idle, max_articles=max_articles, keep_all_events=keep_all_events,
                         named_only=named_events_only,
                         from_beginning=from_beginning, db_retry_seconds=retry_seconds,
                         shutdown_timeout=shutdown_timeout, workers=workers)
    if workers > 1:
        sys.exit(supervise(workers, flags, opts, max_restarts=max_restarts, restart_window_minutes=restart_window,
                             metrics_port=supervisor_metrics_port))
    stats = run_worker(flags, opts, announce=True)
    emit_summary(asdict(stats), summary_format, stats_line(stats))
    if stats.failure:
        fail(f"newsstream: error: {stats.failure}", error=stats.failure)


def stats_line(stats: object) -> str:
    """The closing summary of one worker, with the lag it left behind when it is known."""
    s: Any = stats
    lag = "" if s.lag_left is None else f", lag left {s.lag_left}"
    return (f"consumed {s.consumed}, stored {s.processed}, dead-lettered {s.dead_lettered}, "
            f"batches {s.batches}{lag}")
