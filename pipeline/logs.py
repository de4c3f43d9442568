"""Structured logs: JSON lines when stderr is not a terminal, readable lines when it is.

Messages about one Kafka message carry topic, partition, offset and article_id fields.
Every other line a command writes to stderr goes through ``say``: the readable line on a terminal
(or with NEWSSTREAM_LOG_FORMAT=console), else one JSON object with a fixed event name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import structlog


def configure(fmt: str = "auto", level: str = "INFO") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    if _STDLIB not in root.handlers:  # other libraries' warnings (waitress...) and ours through logging
        root.addHandler(_STDLIB)


class _FromStdlib(logging.Handler):
    """A ``logging`` record (WARNING and up, the root logger's own level) as a structlog line: its template
    for the event, the formatted text for the message, its ``extra`` fields."""

    _PLAIN = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "event", "level", "timestamp", "logger"}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break logging
            message = str(record.msg)
        extra = {k: v for k, v in vars(record).items() if k not in self._PLAIN}
        log = get_logger(logger=record.name, **extra)
        method = {logging.DEBUG: log.debug, logging.INFO: log.info, logging.WARNING: log.warning}.get(
            record.levelno, log.error)
        trace = {"exception": logging.Formatter().formatException(record.exc_info)} if record.exc_info else {}
        method(str(record.msg), message=message, **trace)


_STDLIB = _FromStdlib()


class _Stderr:
    """Whatever sys.stderr is at the moment of writing (test runners swap it).

    Each line reaches it in one ``write``, its newline included (structlog's WriteLogger, not its
    PrintLogger, whose ``print`` writes the newline apart): with PYTHONUNBUFFERED (set in our
    Dockerfile, common in containers) every ``write`` is a system call of its own, and workers
    sharing one stderr would otherwise glue their lines together (``{...}{...}``, then two newlines)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("newsstream").bind(**context)


LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR,
          "critical": logging.CRITICAL}


def _env(name: str) -> str | None:
    """A NEWSSTREAM_* variable, its name in any case (as the settings read it)."""
    return next((v for k, v in os.environ.items() if k.upper() == name), None)


def stderr_format() -> str:
    """``json`` or ``console``: NEWSSTREAM_LOG_FORMAT (set by ``--log-format``), or for ``auto`` (the default)
    json unless stderr is a terminal. Read at each line: the flag and the test runners change it."""
    fmt = (_env("NEWSSTREAM_LOG_FORMAT") or "auto").strip().lower()
    if fmt in ("json", "console"):
        return fmt
    isatty = getattr(sys.stderr, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def _least_level() -> int:
    return LEVELS.get((_env("NEWSSTREAM_LOG_LEVEL") or "info").strip().lower(), logging.INFO)


_lines = structlog.wrap_logger(
    structlog.WriteLogger(file=_Stderr()),  # type: ignore[arg-type]
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(default=str),
    ],
    wrapper_class=structlog.BoundLogger,
    cache_logger_on_first_use=False,
)


def say(message: str, *, event: str, level: str = "info", **fields: Any) -> None:
    """One line on stderr: ``message`` as people read it on a terminal (or with NEWSSTREAM_LOG_FORMAT=console),
    else one JSON object: ``event`` (a fixed name, e.g. ``article_rejected``), ``level``, ``timestamp``,
    ``message`` and ``fields``. Lines below NEWSSTREAM_LOG_LEVEL are left out, errors never."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    if LEVELS[level] < min(_least_level(), logging.ERROR):
        return
    if stderr_format() == "console":
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    else:
        getattr(_lines, level)(event, message=message, **fields)


@contextlib.contextmanager
def warnings_said() -> Iterator[None]:
    """Python warnings (a library's DeprecationWarning...) as ``say`` lines (event ``python_warning``) while
    inside, when the lines are JSON; the usual two-line warning on a terminal."""
    if stderr_format() != "json":
        yield
        return
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        say(f"{filename}:{lineno}: {category.__name__}: {message}", event="python_warning", level="warning",
            category=category.__name__, location=f"{filename}:{lineno}")

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


def say_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """A ``sys.excepthook``: an exception nothing caught, as one JSON line with its traceback (when the lines
    are JSON; else Python's own traceback)."""
    if stderr_format() != "json" or not issubclass(kind, Exception):
        sys.__excepthook__(kind, exc, tb)
        return
    say(f"newsstream: unexpected error: {kind.__name__}: {exc}", event="unexpected_error", level="error",
        error=f"{kind.__name__}: {exc}", traceback="".join(traceback.format_exception(kind, exc, tb)))
