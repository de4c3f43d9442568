"""The ``newsstream`` command: the one place that wires the rooms together.

Commands are imported when they run, not when ``newsstream --help`` lists them: the list below
holds each one's module and its one-line help, so the help is instant and no command pays for
another's imports (spaCy, SQLAlchemy, the Kafka client). ``tests/test_cli_help.py`` checks that
every entry resolves to its command and that the help loads none of them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from pipeline import __version__
from pipeline.logs import say, say_uncaught, stderr_format, warnings_said

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


class _Said(click.ClickException):
    """A click error (a usage error, a bad parameter, an interrupt) shown as click shows it on a terminal,
    else as one JSON line (``say``): event ``usage_error`` (exit code 2), ``command_error`` or ``aborted``."""

    def __init__(self, error: click.ClickException | None, *, interrupted: bool = False) -> None:
        super().__init__(error.format_message() if error is not None else "Aborted!")
        self.error, self.interrupted = error, interrupted
        setattr(self, "exit_code", error.exit_code if error is not None else 1)  # noqa: B010 (a ClassVar in click)

    def show(self, file: IO[Any] | None = None) -> None:
        if stderr_format() == "console":
            if self.error is not None:
                self.error.show(file)
                return
            if self.interrupted:
                click.echo(err=True)  # closes the terminal's ^C
            click.echo("Aborted!", err=True)
            return
        if self.error is None:
            say("Aborted!", event="aborted", level="error", exit_code=self.exit_code)
            return
        fields: dict[str, Any] = {}
        ctx = getattr(self.error, "ctx", None)
        if isinstance(self.error, click.UsageError) and ctx is not None:
            fields = {"command": ctx.command_path, "usage": ctx.get_usage()}
        say(f"Error: {self.message}", level="error", error=self.message, exit_code=self.exit_code,
            event="usage_error" if isinstance(self.error, click.UsageError) else "command_error", **fields)


@contextmanager
def _said() -> Iterator[None]:
    """click's errors and interrupts, and Python's warnings, through ``say`` (structured off a terminal)."""
    try:
        with warnings_said():
            yield
    except _Said:
        raise
    except click.ClickException as exc:
        raise _Said(exc) from None
    except click.Abort:
        raise _Said(None) from None
    except (KeyboardInterrupt, EOFError):
        raise _Said(None, interrupted=True) from None


class LazyGroup(click.Group):
    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        if args is None:  # the real command line (not a test runner): an uncaught exception as a log line too
            sys.excepthook = say_uncaught
        return super().main(args, *rest, **kwargs)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        with _said():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _said():
            return super().invoke(ctx)

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
