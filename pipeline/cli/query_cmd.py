"""``newsstream query``: read the database from the terminal (rich tables) or a pipe (JSON, CSV).

Every value from the command line reaches the database as a bound parameter. A NAME that no
entity has as an alias is an error: one line on stderr, exit code 1. A filter that matches
nothing is not: an empty result (``[]`` in JSON, the header line in CSV) and a note on stderr.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from pipeline.cli.common import FORMATS, db_option, emit, handle_errors, settings

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _common(fn: Callable) -> Callable:
    fn = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                      help="table for a terminal, json or csv for pipes")(fn)
    return db_option(fn)


def _period(fn: Callable) -> Callable:
    fn = click.option("--until", type=DATE, help="published on or before YYYY-MM-DD")(fn)
    return click.option("--since", type=DATE, help="published on or after YYYY-MM-DD")(fn)


def _label(fn: Callable) -> Callable:
    return click.option("--label", help="only entities of this spaCy label (PERSON, ORG, GPE...)")(fn)


def period(since: datetime | None, until: datetime | None) -> Any:
    from pipeline.store.query import Period

    return Period(since.date() if since else None, until.date() if until else None)


@contextmanager
def engine_for(database_url: str | None) -> Iterator[Any]:
    """An engine on the configured database; a missing SQLite file is an error, never created."""
    from sqlalchemy.engine import make_url

    from pipeline.errors import ConfigError
    from pipeline.store.db import make_engine, safe_url

    url = settings(database_url=database_url).database_url_with_password()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists():
        raise ConfigError(f"no database at {safe_url(url)} (run `make demo` or `newsstream db upgrade`)")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def show(rows: list[dict[str, Any]], fmt: str, *, title: str, columns: list[str]) -> None:
    emit(rows, fmt, title=title, columns=columns)
    if not rows:
        click.echo(f"no {title.split(' ', 1)[0]} match", err=True)


@click.group()
def query() -> None:
    """Query the stored articles, entities and events (names match aliases, any case).

    \b
    Dates are publication dates (YYYY-MM-DD, inclusive). A NAME that no entity has: one line
    on stderr and exit code 1. Filters that match nothing: an empty result, a note on stderr.
    """


@query.command()
@click.option("--entity", metavar="NAME", help="mentions this entity (alias, any case)")
@_label
@click.option("--source", help="publisher, exactly as stored")
@click.option("--section", help="section contains this text (any case)")
@_period
@click.option("--text", help="title or body contains this text (any case; % and _ are plain characters)")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="at most this many rows")
@_common
@handle_errors
def articles(entity: str | None, label: str | None, source: str | None, section: str | None,
             since: datetime | None, until: datetime | None, text: str | None, limit: int,
             database_url: str | None, fmt: str) -> None:
    """Articles, newest first, filtered by entity, source, section, date range and text."""
    from pipeline.store.query import search_articles
    from pipeline.store.query.articles import ARTICLE_COLUMNS

    with engine_for(database_url) as engine:
        rows = search_articles(engine, entity=entity, label=label, source=source, section=section,
                               period=period(since, until), text=text, limit=limit)
    columns = [c for c in ARTICLE_COLUMNS if c != "url"] if fmt == "table" else ARTICLE_COLUMNS  # narrower
    show(rows, fmt, title="articles", columns=columns)


@query.command()
@click.option("--top", type=click.IntRange(1), default=20, show_default=True)
@_label
@_period
@_common
@handle_errors
def entities(top: int, label: str | None, since: datetime | None, until: datetime | None,
             database_url: str | None, fmt: str) -> None:
    """The top N entities by mentions in articles published in a date range."""
    from pipeline.store.query import top_entities
    from pipeline.store.query.entities import ENTITY_COLUMNS

    with engine_for(database_url) as engine:
        rows = top_entities(engine, period=period(since, until), label=label, top=top)
    show(rows, fmt, title=f"entities by mentions (top {top})", columns=ENTITY_COLUMNS)


@query.command()
@click.option("--actor", metavar="NAME", help="the entity that acts (alias, any case)")
@click.option("--target", metavar="NAME", help="the entity acted upon (alias, any case)")
@click.option("--type", "type_", help="PLOVER event type, e.g. PROTEST (any case)")
@click.option("--modality", type=click.Choice(["asserted", "hypothetical", "reported"]))
@click.option("--no-negated", is_flag=True, help="leave out negated events")
@_period
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="at most this many rows")
@_common
@handle_errors
def events(actor: str | None, target: str | None, type_: str | None, modality: str | None, no_negated: bool,
           since: datetime | None, until: datetime | None, limit: int, database_url: str | None,
           fmt: str) -> None:
    """Events (who did what to whom), newest article first."""
    from pipeline.store.query import search_events
    from pipeline.store.query.events import EVENT_COLUMNS

    with engine_for(database_url) as engine:
        rows = search_events(engine, actor=actor, target=target, type_=type_, modality=modality,
                             period=period(since, until), include_negated=not no_negated, limit=limit)
    show(rows, fmt, title="events", columns=EVENT_COLUMNS)


@query.command()
@click.argument("name")
@_label
@_period
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="co-occurring entities")
@click.option("--recent", type=click.IntRange(1), default=10, show_default=True, help="recent events")
@_common
@handle_errors
def entity(name: str, label: str | None, since: datetime | None, until: datetime | None, top: int,
           recent: int, database_url: str | None, fmt: str) -> None:
    """Profile of NAME: aliases, mentions per day, co-occurring entities, recent events."""
    from pipeline.store.query import entity_profile
    from pipeline.store.query.entities import ALIAS_COLUMNS, TIMELINE_COLUMNS
    from pipeline.store.query.events import EVENT_COLUMNS

    with engine_for(database_url) as engine:
        prof = entity_profile(engine, name, label=label, period=period(since, until), top=top, recent=recent)
    if fmt == "json":
        click.echo(json.dumps(prof, ensure_ascii=False, default=str, indent=2))
        return
    sections = [("entities", prof["entities"], ["name", "label", "mentions", "id"]),
                ("aliases", prof["aliases"], ALIAS_COLUMNS),
                ("timeline", prof["timeline"], TIMELINE_COLUMNS),
                ("cooccurring", prof["cooccurring"], ["name", "label", "articles", "mentions"]),
                ("recent_events", prof["recent_events"], EVENT_COLUMNS)]
    if fmt == "csv":  # one block per section, each headed by a "# section" line
        for i, (section, rows, cols) in enumerate(sections):
            sys.stdout.write(("\n" if i else "") + f"# {section}\n")
            w = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        return
    titles = {"entities": f"entities called {name!r}", "aliases": "aliases", "timeline": "mentions per day",
              "cooccurring": f"in the same articles (top {top})", "recent_events": f"recent events (last {recent})"}
    for section, rows, cols in sections:
        emit(rows, "table", title=titles[section], columns=cols)


@query.command()
@click.argument("name")
@_label
@click.option("--with-label", "other_label", help="only co-occurring entities of this label")
@_period
@click.option("--top", type=click.IntRange(1), default=20, show_default=True)
@_common
@handle_errors
def cooccurrence(name: str, label: str | None, other_label: str | None, since: datetime | None,
                 until: datetime | None, top: int, database_url: str | None, fmt: str) -> None:
    """The entities most often mentioned in the same articles as NAME."""
    from pipeline.store.query import cooccurrence as cooc

    with engine_for(database_url) as engine:
        rows = cooc(engine, name, label=label, period=period(since, until), top=top, other_label=other_label)
    show(rows, fmt, title=f"entities in the same articles as {name!r}",
         columns=["name", "label", "articles", "mentions"])


@query.command()
@click.argument("name")
@_label
@_period
@_common
@handle_errors
def timeline(name: str, label: str | None, since: datetime | None, until: datetime | None,
             database_url: str | None, fmt: str) -> None:
    """Mentions of NAME per publication day (days without a mention left out)."""
    from pipeline.store.query import timeline as tl
    from pipeline.store.query.entities import TIMELINE_COLUMNS

    with engine_for(database_url) as engine:
        rows = tl(engine, name, label=label, period=period(since, until))
    show(rows, fmt, title=f"mentions of {name!r} per day", columns=TIMELINE_COLUMNS)
