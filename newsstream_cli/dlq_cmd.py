"""`newsstream dlq list|replay`: look at the dead-letter topic and send messages back for another try."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from newsstream_cli.common import (
    FORMATS,
    emit,
    emit_summary,
    handle_errors,
    kafka_options,
    log_options,
    settings,
    summary_option,
)
from pipeline.logs import say

COLUMNS = ["id", "source", "reason", "error_class", "message", "time", "key"]
SHORT_MESSAGE = 60

if TYPE_CHECKING:
    from consumers.dlq_tools import DeadLetter
    from pipeline.config import Settings


@click.group()
def dlq() -> None:
    """List the dead letters of <topic>.dlq and replay them to the topic."""


@dlq.command(name="list")
@kafka_options
@click.option("--reason", metavar="CODE", help="only this reason code (bad_json, invalid_field, html_body, ...)")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="at most N dead letters")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def list_(bootstrap_servers: str | None, topic: str | None, reason: str | None, limit: int | None,
          fmt: str) -> None:
    """Show each dead letter: its id on the dead-letter topic (PARTITION:OFFSET, what `dlq replay --id`
    takes), where it came from (topic[partition]@offset), the reason code, the error class and
    message (shortened in the table), when it was dead-lettered, and the message key."""
    from consumers.dlq_tools import read_dead_letters

    s = settings(bootstrap_servers=bootstrap_servers, topic=topic)
    rows = [d.row() for d in read_dead_letters(s, s.topic, reason=reason, limit=limit)]
    if fmt == "table":
        rows = [{**r, "message": _shorten(r["message"])} for r in rows]
    emit(rows, fmt, title=f"dead letters of {s.topic}", columns=COLUMNS if fmt != "json" else None)


def _shorten(text: str | None) -> str | None:
    if text is None or len(text) <= SHORT_MESSAGE:
        return text
    return text[:SHORT_MESSAGE - 1] + "…"


@dlq.command()
@kafka_options
@click.option("--id", "ids", multiple=True, metavar="P:O", help="the dead letter at this PARTITION:OFFSET "
              "(repeatable; ids from `newsstream dlq list`)")
@click.option("--reason", metavar="CODE", help="every dead letter with this reason code")
@click.option("--all", "everything", is_flag=True, help="every dead letter")
@click.option("--dry-run", is_flag=True, help="show what would be sent, send nothing")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="seconds to wait for the broker to acknowledge every message")
@log_options
@summary_option
@handle_errors
def replay(bootstrap_servers: str | None, topic: str | None, ids: tuple[str, ...], reason: str | None,
           everything: bool, dry_run: bool, timeout: float, summary_format: str) -> None:
    """Send the chosen dead letters (--id P:O ..., --reason CODE or --all) back to the topic.

    Each goes with its original key, value and headers, plus a dlq.replayed.from header naming
    its dead-letter position; the dead letters themselves stay where they are. Waits for every
    acknowledgement and exits 1 if any message could not be sent. With --format table|json|csv,
    stdout holds only the closing summary (chosen, replayed, failed, dry_run) and the line per
    dead letter goes to stderr.
    """
    from consumers.dlq_tools import choose, read_dead_letters

    if sum((bool(ids), reason is not None, everything)) != 1:
        raise click.UsageError("choose the dead letters with exactly one of --id, --reason or --all")
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic)
    try:
        chosen = choose(read_dead_letters(s, s.topic), ids=ids, reason=reason, everything=everything)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--id") from None
    summary = {"chosen": len(chosen), "replayed": 0, "failed": 0, "dry_run": dry_run}
    if not chosen:
        emit_summary(summary, summary_format, "no dead letter matches: nothing to replay")
    elif dry_run:
        for d in chosen:
            _tell(summary_format, f"would replay {d.id} ({d.source}, {d.reason}, key {d.key}) to {s.topic}",
                  "replay_dry_run", d)
        if summary_format != "text":  # the text lines above are the whole answer, as before
            emit_summary(summary, summary_format, "")
    else:
        _replay(s, chosen, timeout, summary, summary_format)


def _tell(summary_format: str, line: str, event: str, d: DeadLetter) -> None:
    """One dead letter's line: on stdout with the text summary, else a log line on stderr (stdout is data)."""
    if summary_format == "text":
        click.echo(line)
    else:
        say(line, event=event, id=d.id, source=d.source, reason=d.reason, key=d.key)


def _replay(s: Settings, chosen: list[DeadLetter], timeout: float, summary: dict[str, Any],
            summary_format: str) -> None:
    from consumers.dlq_tools import replay as send

    results = send(s, s.topic, chosen, timeout=timeout)
    for res in results:
        d = res.letter
        if res.ok:
            _tell(summary_format, f"replayed {d.id} ({d.source}, {d.reason}, key {d.key}) to {s.topic}",
                  "replay_sent", d)
        else:
            say(f"failed   {d.id} ({d.source}, key {d.key}): {res.error}", event="replay_failed", level="error",
                id=d.id, source=d.source, key=d.key, error=res.error)
    failed = sum(not r.ok for r in results)
    summary.update(replayed=len(results) - failed, failed=failed)
    emit_summary(summary, summary_format, f"replayed {len(results) - failed}, failed {failed}")
    if failed:
        sys.exit(1)
