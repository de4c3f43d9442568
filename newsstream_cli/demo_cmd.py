"""`newsstream summary`: what the database holds, at a glance (the demo ends with it)."""

from __future__ import annotations

import json

import click

from newsstream_cli.common import db_option, emit, handle_errors, settings


@click.command()
@db_option
@click.option("--top", default=10, show_default=True, help="how many top entities to show")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
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
    emit([counts], "table", title="newsstream database")
    emit(data.get("top_entities", []), "table", title=f"top {top} entities by mentions")
    by_type = data.get("events_by_type", {})
    emit([{"type": t, "events": n} for t, n in by_type.items()], "table", title="events by type",
         columns=["type", "events"])
