"""The ``newsstream`` command: the one place that wires the rooms together.

Commands are imported when they run, not when ``newsstream --help`` lists them: the list below
holds each one's module and its one-line help, so the help is instant and no command pays for
another's imports (spaCy, SQLAlchemy, the Kafka client). ``tests/test_cli_help.py`` checks that
every entry resolves to its command and that the help loads none of them.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from pipeline import __version__

# name -> (module:attribute, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "broker": ("newsstream_cli.broker_cmd:broker", "Run a local Apache Kafka broker (KRaft, no Docker)."),
    "topics": ("newsstream_cli.topics_cmd:topics", "Create and list Kafka topics."),
    "db": ("newsstream_cli.db_cmd:db", "Manage the database schema."),
    "produce": ("newsstream_cli.produce_cmd:produce", "Send articles to Kafka from files, feeds or stdin."),
    "serve-ingest": ("newsstream_cli.ingest_cmd:serve_ingest", "Accept articles over HTTP: POST /articles."),
    "consume": ("newsstream_cli.consume_cmd:consume", "Read articles from Kafka, extract, write the database."),
    "dlq": ("newsstream_cli.dlq_cmd:dlq", "List the dead letters and replay them after a fix."),
    "reprocess": ("newsstream_cli.reprocess_cmd:reprocess", "Re-extract stored articles (or reassign stories)."),
    "extract": ("newsstream_cli.extract_cmd:extract", "Show what the pipeline reads out of articles (offline)."),
    "summary": ("newsstream_cli.demo_cmd:summary", "Counts of what the database holds."),
    "query": ("newsstream_cli.query_cmd:query", "Query the stored articles, entities, events, places, stories."),
    "config": ("newsstream_cli.config_cmd:config", "Print the effective settings, secrets masked."),
    "bench": ("newsstream_cli.bench_cmd:bench", "Measure the pipeline against bare spaCy (a checkout's benchmarks)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsstream")
def cli(**_: Any) -> None:
    """newsstream: news articles -> Kafka -> spaCy entities and events -> SQL, with Prometheus metrics.

    Settings come from NEWSSTREAM_* environment variables; flags override them.
    Run `newsstream COMMAND --help` for each command.
    """
