"""`newsstream consume`: a consumer worker from the topic into the database."""

from __future__ import annotations

import click

from pipeline.bus.clients import dlq_topic, ensure_topic
from pipeline.cli.common import db_option, handle_errors, kafka_options, metrics_option, serve_metrics, settings
from pipeline.metrics import Metrics


@click.command()
@kafka_options
@db_option
@metrics_option
@click.option("--group", help="consumer group [env NEWSSTREAM_GROUP]")
@click.option("--until-idle", type=float, metavar="SECONDS", help="stop after this long without messages")
@click.option("--max-articles", type=int, metavar="N", help="stop after N messages")
@click.option("--batch-size", type=int, help="messages per batch [env NEWSSTREAM_BATCH_SIZE]")
@click.option("--model", "spacy_model", help="spaCy model [env NEWSSTREAM_SPACY_MODEL]")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="upgrade the database schema before consuming")
@click.option("--keep-all-events", is_flag=True, help="store events with no named actor or target too")
@handle_errors
def consume(bootstrap_servers: str | None, topic: str | None, database_url: str | None, metrics_port: int | None,
            group: str | None, until_idle: float | None, max_articles: int | None, batch_size: int | None,
            spacy_model: str | None, migrate: bool, keep_all_events: bool) -> None:
    """Read articles from Kafka, extract entities and events with spaCy, write them to the database.

    Each batch is extracted with nlp.pipe and written in one transaction; only then are the
    Kafka offsets committed. Messages that cannot be decoded or extracted go to <topic>.dlq.
    SIGTERM/SIGINT finishes the batch and exits; a second signal exits at once.
    """
    from consumers.worker import Worker
    from pipeline.extract import load_nlp
    from pipeline.store.db import make_engine, upgrade

    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, database_url=database_url,
                 metrics_port=metrics_port, group=group, batch_size=batch_size, spacy_model=spacy_model)
    url = s.database_url_with_password()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    ensure_topic(s)
    ensure_topic(s, dlq_topic(s.topic))
    metrics = Metrics()
    metrics.build_info.info({"version": metrics.version, "spacy_model": s.spacy_model})
    serve_metrics(metrics, s)
    nlp = load_nlp(s.spacy_model)
    worker = Worker(s, engine=engine, nlp=nlp, metrics=metrics, keep_all_events=keep_all_events)
    worker.install_signal_handlers()
    stats = worker.run(until_idle=until_idle, max_articles=max_articles)
    click.echo(f"consumed {stats.consumed}, stored {stats.processed}, dead-lettered {stats.dead_lettered}, "
               f"batches {stats.batches}")
