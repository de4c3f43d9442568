"""The ``newsstream`` command: the one place that wires the rooms together."""

from __future__ import annotations

import click

from pipeline import __version__
from pipeline.cli.bench_cmd import bench
from pipeline.cli.broker_cmd import broker
from pipeline.cli.config_cmd import config
from pipeline.cli.consume_cmd import consume
from pipeline.cli.db_cmd import db
from pipeline.cli.demo_cmd import summary
from pipeline.cli.dlq_cmd import dlq
from pipeline.cli.extract_cmd import extract
from pipeline.cli.ingest_cmd import serve_ingest
from pipeline.cli.produce_cmd import produce
from pipeline.cli.query_cmd import query
from pipeline.cli.reprocess_cmd import reprocess
from pipeline.cli.topics_cmd import topics


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsstream")
def cli() -> None:
    """newsstream: news articles -> Kafka -> spaCy entities and events -> SQL, with Prometheus metrics.

    Settings come from NEWSSTREAM_* environment variables; flags override them.
    Run `newsstream COMMAND --help` for each command.
    """


for command in (broker, topics, db, produce, serve_ingest, consume, dlq, reprocess, extract, summary, query, config,
                bench):
    cli.add_command(command)
