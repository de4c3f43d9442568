"""`newsstream summary`: what the database holds, at a glance (the demo ends with it)."""

from __future__ import annotations

import json

import click

from newsstream_cli.common import FORMATS, db_option, emit, emit_csv_sections, handle_errors, settings

ENTITY_COLUMNS = ["name", "label", "mentions", "articles"]


@click.command()
@db_option
@click.option("--top", default=10, show_default=True, help="how many top entities to show")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="tables for a terminal; json, or csv (one block per table, each headed by a # line) for pipes")
@handle_errors
def summary(database_url: str | None, top: int, fmt: str) -> None:
    """Counts of articles, entities, mentions and events; top entities; events by type."""
    from pipeline.store.db import make_engine
    from pipeline.store.query.overview import summary as db_summary

    s = settings(database_url=database_url)
    data = db_summary(make_engine(s.database_url_with_password()), top=top)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2))
        return
    counts = {k: v for k, v in data.items() if isinstance(v, int)}
    by_type = [{"type": t, "events": n} for t, n in data.get("events_by_type", {}).items()]
    if fmt == "csv":
        emit_csv_sections([("counts", [counts], list(counts)),
                           ("top_entities", data.get("top_entities", []), ENTITY_COLUMNS),
                           ("events_by_type", by_type, ["type", "events"])])
        return
    emit([counts], "table", title="newsstream database")
    emit(data.get("top_entities", []), "table", title=f"top {top} entities by mentions")
    emit(by_type, "table", title="events by type", columns=["type", "events"])
