"""``newsstream query``: read the database from the terminal (rich tables) or a pipe (JSON, CSV).

Every value from the command line reaches the database as a bound parameter. A NAME that no
entity has as an alias is an error: one line on stderr, exit code 1. A filter that matches
nothing is not: an empty result (``[]`` in JSON, the header line in CSV) and a note on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from newsstream_cli.common import FORMATS, db_option, emit, emit_csv_sections, handle_errors, settings
from pipeline.logs import say

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _common(fn: Callable) -> Callable:
    fn = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                      help="table for a terminal, json or csv for pipes")(fn)
    return db_option(fn)


def _period(fn: Callable) -> Callable:
    fn = click.option("--until", type=DATE, metavar="YYYY-MM-DD", help="published on or before this day")(fn)
    return click.option("--since", type=DATE, metavar="YYYY-MM-DD", help="published on or after this day")(fn)


def _label(fn: Callable) -> Callable:
    return click.option("--label", help="only entities of this spaCy label (PERSON, ORG, GPE...)")(fn)


def _country(what: str) -> Callable[[Callable], Callable]:
    return click.option("--country", metavar="CC", help=f"{what} (ISO 3166 alpha-2: BY, US...)")


def period(since: datetime | None, until: datetime | None) -> Any:
    from pipeline.store.query import Period

    return Period(since.date() if since else None, until.date() if until else None)


@contextmanager
def engine_for(database_url: str | None) -> Iterator[Any]:
    """An engine on the configured database; a missing SQLite file is an error, never created."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    from pipeline.errors import ConfigError
    from pipeline.store.db import invalid_url, make_engine, safe_url

    s = settings(database_url=database_url)
    try:
        url = s.database_url_with_password()
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:  # a file path given for a URL: hint at sqlite:///PATH
        raise invalid_url(s.database_url, exc) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists():
        raise ConfigError(f"no database at {safe_url(url)} (run `make demo` or `newsstream db upgrade`)")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def show(rows: list[dict[str, Any]], fmt: str, *, title: str, columns: list[str], note: str | None = None) -> None:
    emit(rows, fmt, title=title, columns=columns)
    if not rows:
        say(note or f"no {title.split(' ', 1)[0]} match", event="no_match", what=title)


ID_COLUMNS = ("id", "article_id", "headline_article_id")  # article ids, shortened in tables


def shorten(engine: Any, fmt: str, rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
    """For a table, the rows with the article ids of ``columns`` cut to a prefix no other stored id has
    (as git abbreviates commits; `query article PREFIX` takes one); json and csv keep the whole ids."""
    if fmt != "table" or not rows:
        return rows
    from pipeline.store.query import abbreviations

    cols = [c for c in columns or ID_COLUMNS if c in rows[0]]
    short = abbreviations(engine, sorted({str(r[c]) for r in rows for c in cols if isinstance(r.get(c), str)}))
    return [{**r, **{c: short.get(r[c], r[c]) for c in cols if isinstance(r.get(c), str)}} for r in rows]


EVENT_TABLE = ["published", "type", "actor", "trigger", "target", "where", "modality", "article"]


def event_table(rows: list[dict[str, Any]], fmt: str, wide: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """Event rows and columns to print. json and csv: every column. A table fits 100 columns: "not"
    before a negated trigger, location and country in one column ("where"), the article's short id;
    the event's date and sentence only when ``wide``."""
    from pipeline.store.query.events import EVENT_COLUMNS

    if fmt != "table":
        return rows, EVENT_COLUMNS
    out = [{**r, "trigger": f"not {r['trigger']}" if r["negated"] else r["trigger"],
            "where": ", ".join(dict.fromkeys(x for x in (r["location"], r["country"]) if x)), "date": r["event_date"],
            "article": r["article_id"]} for r in rows]
    if not wide:
        return out, EVENT_TABLE
    return out, [*EVENT_TABLE[:6], "date", *EVENT_TABLE[6:], "sentence"]


def lexicon_types() -> list[str]:
    """The event types of the lexicon's taxonomy, read from ``lexicon.json`` (importing the extractor
    would load spaCy): its types, STATEMENT and OTHER (a trigger the lexicon does not classify)."""
    return sorted({*_lexicon()["types"], "STATEMENT", "OTHER"})


def lexicon_families() -> list[str]:
    return sorted({t["family"] for t in _lexicon()["types"].values()} | {"statement", "other"})


def _lexicon() -> dict[str, Any]:
    from importlib import resources

    return json.loads((resources.files("pipeline") / "extract" / "lexicon.json").read_text(encoding="utf-8"))


def no_events_note(engine: Any, type_: str | None) -> str:
    """Why no event matched, listing the valid types when ``--type`` was given."""
    if type_ is None:
        return "no events match"
    from pipeline.store.query import event_types

    wanted, known = type_.strip().upper(), lexicon_types()
    stored = event_types(engine)
    in_db = ", ".join(f"{r['type']} ({r['events']})" for r in stored) or "none"
    if wanted not in known and wanted not in {r["type"] for r in stored}:
        return (f"no events match: {type_!r} is not an event type; the lexicon's types are "
                f"{', '.join(known)}; in the database: {in_db}")
    return f"no events match; event types in the database: {in_db}"


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
@_country("its news happens in this country")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="at most this many rows")
@_common
@handle_errors
def articles(entity: str | None, label: str | None, source: str | None, section: str | None,
             since: datetime | None, until: datetime | None, text: str | None, country: str | None, limit: int,
             database_url: str | None, fmt: str) -> None:
    """Articles, newest first, filtered by entity, source, section, date range and text."""
    from pipeline.store.query import search_articles
    from pipeline.store.query.articles import ARTICLE_COLUMNS

    with engine_for(database_url) as engine:
        rows = search_articles(engine, entity=entity, label=label, source=source, section=section,
                               period=period(since, until), text=text, country=country, limit=limit)
        rows = shorten(engine, fmt, rows, "id")
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
@click.option("--type", "type_", help="event type, e.g. PROTEST, ARREST, JOB_CUTS (any case)")
@click.option("--family", help="event family: political, business, justice, personnel, life, sport, culture, "
                               "statement... (any case)")
@click.option("--sector", help="an unnamed actor's or target's sector: police, military, business... (any case)")
@click.option("--modality", type=click.Choice(["asserted", "hypothetical", "reported"]))
@click.option("--no-negated", is_flag=True, help="leave out negated events")
@_country("the event happened in this country")
@_period
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="at most this many rows")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "geojson"]), default="table",
              show_default=True, help="table for a terminal, json or csv for pipes, geojson for a map")
@click.option("--wide", is_flag=True, help="table: each event's date and sentence too (json and csv always have them)")
@db_option
@handle_errors
def events(actor: str | None, target: str | None, type_: str | None, family: str | None, sector: str | None,
           modality: str | None, no_negated: bool,
           country: str | None, since: datetime | None, until: datetime | None, limit: int,
           database_url: str | None, fmt: str, wide: bool) -> None:
    """Events (who did what to whom), newest article first; tables show short article ids."""
    from pipeline.store.query import search_events, to_geojson

    with engine_for(database_url) as engine:
        if family is not None and family.strip().lower() not in lexicon_families():
            raise click.UsageError(f"--family: {family!r} is not an event family; the families are "
                                   f"{', '.join(lexicon_families())}")
        rows = search_events(engine, actor=actor, target=target, type_=type_, family=family, sector=sector,
                             modality=modality,
                             period=period(since, until), include_negated=not no_negated, country=country,
                             limit=limit, with_seq=fmt == "geojson")
        if fmt == "geojson":  # a FeatureCollection: a point per event, at its location or its country
            click.echo(json.dumps(to_geojson(engine, rows), ensure_ascii=False, default=str))
            if not rows:
                say(no_events_note(engine, type_), event="no_match", what="events")
            return
        note = None if rows else no_events_note(engine, type_)
        rows, columns = event_table(shorten(engine, fmt, rows, "article_id"), fmt, wide)
    show(rows, fmt, title="events", columns=columns, note=note)


@query.command()
@click.argument("article_id", metavar="ID")
@click.option("--wide", is_flag=True, help="table: each event's date and sentence too (json and csv always have them)")
@_common
@handle_errors
def article(article_id: str, wide: bool, database_url: str | None, fmt: str) -> None:
    """One article by ID, or any prefix of it of at least 6 characters that no other id starts
    with (tables show such prefixes): its fields, entities with their mentions, events, story, country.

    An ambiguous prefix is an error that lists the ids it starts. json and csv show whole ids.
    """
    from pipeline.store.query import article_detail
    from pipeline.store.query.articles import DETAIL_FIELDS

    with engine_for(database_url) as engine:
        d = article_detail(engine, article_id)
    if fmt == "json":
        click.echo(json.dumps(d, ensure_ascii=False, default=str, indent=2))
        return
    art, story = d["article"], d["story"]
    fields = {**art, "authors": "; ".join(art["authors"] or [])}
    entity_rows = [{**e, "texts": "; ".join(e["texts"])} for e in d["entities"]]
    story_rows = [story] if story else []
    story_cols = ["id", "articles", "sources", "first_seen", "last_seen", "country", "headline"]
    entity_cols = ["name", "label", "mentions", "texts"]
    if fmt == "csv":  # one block per section, each headed by a "# section" line, as `query entity`
        emit_csv_sections([("article", [fields], DETAIL_FIELDS), ("entities", entity_rows, ["id", *entity_cols]),
                           ("events", d["events"], event_table(d["events"], fmt)[1]),
                           ("story", story_rows, story_cols)])
        return
    emit([{"field": k, "value": v} for k, v in fields.items() if k != "story_id" and v not in (None, "")],
         "table", title=f"article {art['id']}", columns=["field", "value"])
    if story:
        click.echo(f"story {story['id']}: {story['articles']} articles, {story['sources']} sources, "
                   f"{story['first_seen']} .. {story['last_seen']}, country {story['country'] or '-'}"
                   f" (`newsstream query story {story['id']}`)")
    emit(entity_rows, "table", title=f"entities ({len(entity_rows)})", columns=entity_cols)
    event_rows, event_cols = event_table(d["events"], fmt, wide)
    emit(event_rows, "table", title=f"events ({len(event_rows)})",
         columns=[c for c in event_cols if c not in ("published", "article")])  # the article's own


@query.command()
@_country("only places in this country")
@click.option("--kind", type=click.Choice(["country", "admin1", "city", "continent"]), help="only places of this kind")
@click.option("--top", type=click.IntRange(1), default=20, show_default=True)
@_period
@_common
@handle_errors
def places(country: str | None, kind: str | None, top: int, since: datetime | None, until: datetime | None,
           database_url: str | None, fmt: str) -> None:
    """The top N places by mentions (GeoNames id, kind, country, admin1, coordinates)."""
    from pipeline.store.query import top_places
    from pipeline.store.query.places import PLACE_COLUMNS

    with engine_for(database_url) as engine:
        rows = top_places(engine, country=country, kind=kind, period=period(since, until), top=top)
    show(rows, fmt, title=f"places by mentions (top {top})", columns=PLACE_COLUMNS)


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
    from pipeline.store.query.entities import ALIAS_COLUMNS, LABEL_HISTORY_COLUMNS, MERGE_COLUMNS, TIMELINE_COLUMNS

    with engine_for(database_url) as engine:
        prof = entity_profile(engine, name, label=label, period=period(since, until), top=top, recent=recent)
        recent_events, event_cols = event_table(shorten(engine, fmt, prof["recent_events"], "article_id"), fmt)
    if fmt == "json":
        click.echo(json.dumps(prof, ensure_ascii=False, default=str, indent=2))
        return
    timeline_rows = prof["timeline"] + ([{"day": "undated", **prof["undated"]}]
                                        if fmt == "table" and prof["undated"]["mentions"] else [])
    sections = [("entities", prof["entities"], ["name", "label", "mentions", "id"]),
                ("aliases", prof["aliases"], ALIAS_COLUMNS),
                ("label_history", prof["label_history"], LABEL_HISTORY_COLUMNS),
                ("merges", prof["merges"], MERGE_COLUMNS),
                ("timeline", timeline_rows, TIMELINE_COLUMNS),
                ("cooccurring", prof["cooccurring"], ["name", "label", "articles", "mentions"]),
                ("recent_events", recent_events, event_cols)]
    if fmt == "csv":  # one block per section, each headed by a "# section" line
        emit_csv_sections(sections)
        return
    titles = {"entities": f"entities called {name!r}", "aliases": "aliases", "label_history": "label history",
              "merges": "entities merged into it", "timeline": "mentions per day",
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
    """Mentions of NAME per publication day (days without a mention left out).

    Articles without a publication date are in no day: a table ends with an "undated" row for
    them, json and csv leave them out and say so on stderr (with a period, they are outside it).
    """
    from pipeline.store.query import timeline as tl
    from pipeline.store.query import undated
    from pipeline.store.query.entities import TIMELINE_COLUMNS

    when = period(since, until)
    with engine_for(database_url) as engine:
        rows = tl(engine, name, label=label, period=when)
        lost = undated(engine, name, label=label) if when.open else {"mentions": 0, "articles": 0}
    if lost["mentions"] and fmt == "table":
        rows = [*rows, {"day": "undated", **lost}]
    show(rows, fmt, title=f"mentions of {name!r} per day", columns=TIMELINE_COLUMNS)
    if lost["mentions"] and fmt != "table":
        say(f"not in the timeline: {lost['mentions']} mentions in {lost['articles']} articles without "
            "a publication date", event="timeline_undated", mentions=lost["mentions"], articles=lost["articles"])


from newsstream_cli.query_stories import register as _register_stories  # noqa: E402  (stories, issue 15)

_register_stories(query)
