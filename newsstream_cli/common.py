"""Helpers shared by the CLI commands: settings from flags, one-line errors, data output."""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click

from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError, NewsstreamError
from pipeline.logs import configure, say
from pipeline.metrics import Metrics

FORMATS = click.Choice(["table", "json", "csv"])
SHORT_CELL = 12  # a table column whose header and values are single words this short is kept whole...
MIN_TEXT = 10  # ...when the other columns still get this many characters each


def _share(natural: list[int], keep: set[int], room: int) -> list[int]:
    """Column widths within ``room``: the ``keep`` columns whole, when the others still get MIN_TEXT
    each (else every column shares); the room left shared out, narrow columns first, none wider
    than it needs."""
    widths = list(natural)
    free = [i for i in range(len(natural)) if i not in keep]
    left = room - sum(natural[i] for i in keep)
    if not free or left < MIN_TEXT * len(free):
        free, left = list(range(len(natural))), room
    pending = sorted(free, key=lambda i: natural[i])
    while pending:
        share, extra = divmod(max(left, 0), len(pending))
        if natural[pending[0]] <= share:
            i = pending.pop(0)
            left -= natural[i]
            continue
        for n, j in enumerate(pending):
            widths[j] = max(1, share + (1 if n < extra else 0))
        break
    return widths


def kafka_options(fn: Callable) -> Callable:
    fn = click.option("--bootstrap-servers", help="Kafka bootstrap servers [env NEWSSTREAM_BOOTSTRAP_SERVERS]")(fn)
    fn = click.option("--topic", help="topic [env NEWSSTREAM_TOPIC]")(fn)
    return fn


def db_option(fn: Callable) -> Callable:
    return click.option("--database-url", help="SQLAlchemy URL [env NEWSSTREAM_DATABASE_URL]")(fn)


def _to_environment(variable: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """A flag that sets its setting for this process and the worker processes it starts."""
    def callback(_ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            os.environ[variable] = str(value)
    return callback


def log_options(fn: Callable) -> Callable:
    """``--log-level`` and ``--log-format`` for a long-running command (before its settings are read)."""
    fn = click.option("--log-format", type=click.Choice(["auto", "json", "console"]), expose_value=False,
                      is_eager=True, callback=_to_environment("NEWSSTREAM_LOG_FORMAT"),
                      help="json lines, console lines, or auto: json when stderr is not a terminal "
                           "[env NEWSSTREAM_LOG_FORMAT]")(fn)
    return click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
                        expose_value=False, is_eager=True, callback=_to_environment("NEWSSTREAM_LOG_LEVEL"),
                        help="the least severe log lines shown; DEBUG adds the Kafka client's own "
                             "[env NEWSSTREAM_LOG_LEVEL]")(fn)


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
        say(f"warning: port {wanted} is taken, serving metrics on {port}", event="metrics_port_taken",
            level="warning", wanted=wanted, port=port)
    say(f"metrics on http://{s.metrics_host}:{port}/metrics", event="metrics_serving",
        url=f"http://{s.metrics_host}:{port}/metrics")
    return port


def settings(**flags: Any) -> Settings:
    """Settings from the environment, overridden by the flags given; logs configured from them."""
    from pipeline.bus.logbridge import bridge_client_logs

    s = load_settings(**{k: v for k, v in flags.items() if v is not None})
    configure(s.log_format, s.log_level)
    bridge_client_logs(s.log_level)
    return s


EXIT_FAILURE, EXIT_USAGE = 1, 2  # 2 as click's own usage errors: a wrong flag or setting, fix and rerun


def fail(message: str, *, event: str = "command_failed", code: int = EXIT_FAILURE, **fields: Any) -> NoReturn:
    """Say why on stderr (the readable line, or one JSON line with ``exit_code``), then exit with ``code``."""
    say(message, event=event, level="error", exit_code=code, **fields)
    sys.exit(code)


def handle_errors(fn: Callable) -> Callable:
    """Turn NewsstreamError into a one-line message on stderr (``fail``): exit code 2 for a configuration
    error, 1 for a failure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail(f"newsstream: configuration error: {exc}", event="configuration_error", error=str(exc),
                 code=EXIT_USAGE)
        except NewsstreamError as exc:
            fail(f"newsstream: error: {exc}", error=str(exc))

    return wrapper


SUMMARY_FORMATS = click.Choice(["text", "table", "json", "csv"])


def summary_option(fn: Callable) -> Callable:
    return click.option("--format", "summary_format", type=SUMMARY_FORMATS, default="text", show_default=True,
                        help="the closing summary on stdout: one line of text, a table, JSON or CSV")(fn)


def emit_summary(data: dict[str, Any], fmt: str, line: str) -> None:
    """A command's closing summary: ``line`` as text, else ``data`` (nested counts flattened for CSV)."""
    if fmt == "text":
        click.echo(line)
    elif fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        flat = {f"{k}.{sub}" if isinstance(v, dict) else k: (n if isinstance(v, dict) else v)
                for k, v in data.items() for sub, n in (v.items() if isinstance(v, dict) else [(None, v)])}
        emit([flat], fmt, title="summary", columns=list(flat))


def emit_csv_sections(sections: Sequence[tuple[str, Sequence[dict[str, Any]], Sequence[str]]]) -> None:
    """Several tables as one CSV stream: one block per (section, rows, columns), each headed by a
    ``# section`` line, the blocks apart by an empty line."""
    for i, (section, rows, cols) in enumerate(sections):
        sys.stdout.write(("\n" if i else "") + f"# {section}\n")
        w = csv.DictWriter(sys.stdout, fieldnames=list(cols), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


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
        from rich.cells import cell_len
        from rich.console import Console
        from rich.table import Table

        console = Console()
        cells = [["" if r.get(c) is None else str(r.get(c)) for c in cols] for r in rows]
        natural = [max(cell_len(w) for w in [c, *(row[i] for row in cells)]) for i, c in enumerate(cols)]
        room = console.width - (3 * len(cols) + 1)  # borders and padding
        widths: list[int | None] = [None] * len(cols)
        if cols and sum(natural) > room:  # too wide: rich alone would break dates and ids, so share the room
            short = {i for i, c in enumerate(cols)  # one-word columns (dates, ids, types, counts) stay whole
                     if all(cell_len(w) <= SHORT_CELL and not any(ch.isspace() for ch in w)
                            for w in [c, *(row[i] for row in cells)])}
            widths = list(_share(natural, short, room))
        table = Table(title=title)
        for c, width in zip(cols, widths, strict=True):  # the columns of longer text fold in what is left
            table.add_column(c, overflow="fold", width=width)
        for row in cells:
            table.add_row(*row)
        console.print(table)
