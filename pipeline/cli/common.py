"""Helpers shared by the CLI commands: settings from flags, one-line errors, data output."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError, NewsstreamError
from pipeline.logs import configure
from pipeline.metrics import Metrics

FORMATS = click.Choice(["table", "json", "csv"])


def kafka_options(fn: Callable) -> Callable:
    fn = click.option("--bootstrap-servers", help="Kafka bootstrap servers [env NEWSSTREAM_BOOTSTRAP_SERVERS]")(fn)
    fn = click.option("--topic", help="topic [env NEWSSTREAM_TOPIC]")(fn)
    return fn


def db_option(fn: Callable) -> Callable:
    return click.option("--database-url", help="SQLAlchemy URL [env NEWSSTREAM_DATABASE_URL]")(fn)


def metrics_option(fn: Callable) -> Callable:
    return click.option("--metrics-port", type=int, help="port of /metrics, 0 = any free port, "
                        "-1 = off [env NEWSSTREAM_METRICS_PORT]")(fn)


def serve_metrics(metrics: Metrics, s: Settings, port: int | None = None) -> int | None:
    """Serve /metrics on ``port`` (default: the consumers' metrics port), on a free one when it is taken;
    None when off (-1)."""
    wanted = s.metrics_port if port is None else port
    if wanted < 0:
        return None
    try:
        port = metrics.serve(wanted, s.metrics_host)
    except OSError:
        port = metrics.serve(0, s.metrics_host)
        click.echo(f"warning: port {wanted} is taken, serving metrics on {port}", err=True)
    click.echo(f"metrics on http://{s.metrics_host}:{port}/metrics", err=True)
    return port


def settings(**flags: Any) -> Settings:
    """Settings from the environment, overridden by the flags given; logs configured from them."""
    from pipeline.bus.logbridge import bridge_client_logs

    s = load_settings(**{k: v for k, v in flags.items() if v is not None})
    configure(s.log_format, s.log_level)
    bridge_client_logs(s.log_level)
    return s


EXIT_FAILURE, EXIT_USAGE = 1, 2  # 2 as click's own usage errors: a wrong flag or setting, fix and rerun


def handle_errors(fn: Callable) -> Callable:
    """Turn NewsstreamError into a one-line message on stderr: exit code 2 for a configuration error,
    1 for a failure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"newsstream: configuration error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except NewsstreamError as exc:
            click.echo(f"newsstream: error: {exc}", err=True)
            sys.exit(EXIT_FAILURE)

    return wrapper


def emit(rows: Sequence[dict[str, Any]], fmt: str, *, title: str | None = None,
         columns: Sequence[str] | None = None) -> None:
    """Print rows as a rich table, JSON (one array) or CSV."""
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        click.echo(json.dumps(list(rows), ensure_ascii=False, default=str, indent=2))
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for c in cols:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
        Console().print(table)
