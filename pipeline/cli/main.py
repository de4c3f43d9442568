"""The ``newsstream`` command: the one place that wires the rooms together."""

from __future__ import annotations

import click

from pipeline import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsstream")
def cli() -> None:
    """newsstream: news articles -> Kafka -> spaCy entities and events -> SQL, with Prometheus metrics.

    Settings come from NEWSSTREAM_* environment variables; flags override them.
    Run `newsstream COMMAND --help` for each command.
    """


def _register() -> None:
    import importlib

    for mod, name in [("broker_cmd", "broker"), ("db_cmd", "db"), ("extract_cmd", "extract"),
                      ("produce_cmd", "produce"), ("consume_cmd", "consume"), ("topics_cmd", "topics"),
                      ("demo_cmd", "summary")]:
        try:
            module = importlib.import_module(f"pipeline.cli.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipeline.cli.{mod}":
                raise
            continue
        cli.add_command(getattr(module, name))


_register()
