"""``newsstream query stories`` and ``newsstream query story ID``: the same event across sources."""

from __future__ import annotations

from datetime import datetime

import click

from newsstream_cli.common import emit, handle_errors
from newsstream_cli.query_cmd import _common, _period, engine_for, period, shorten, show
from pipeline.logs import say


@click.command("stories")
@click.option("--entity", metavar="NAME", help="only stories with an article naming this entity (any alias)")
@click.option("--country", metavar="CC", help="only stories whose news happens there (ISO 3166 alpha-2)")
@click.option("--min-sources", type=click.IntRange(1), default=1, show_default=True,
              help="only stories reported by at least this many sources")
@click.option("--top", type=click.IntRange(1), default=20, show_default=True)
@_period
@_common
@handle_errors
def stories_cmd(entity: str | None, country: str | None, min_sources: int, top: int, since: datetime | None,
                until: datetime | None, database_url: str | None, fmt: str) -> None:
    """The largest stories (articles of every source about one event) seen between --since and --until."""
    from pipeline.store.query.stories import STORY_COLUMNS, search_stories

    with engine_for(database_url) as engine:
        rows = search_stories(engine, period=period(since, until), entity=entity, country=country,
                              min_sources=min_sources, top=top)
    show(rows, fmt, title=f"stories by articles (top {top})", columns=STORY_COLUMNS)


@click.command("story")
@click.argument("story_id", type=int)
@_common
@handle_errors
def story_cmd(story_id: int, database_url: str | None, fmt: str) -> None:
    """One story: its articles, its sources, its events with their mentions and sources (a merged id resolves)."""
    import json

    from pipeline.errors import ConfigError
    from pipeline.store.query.stories import (
        ARTICLE_COLUMNS,
        EVENT_COLUMNS,
        SOURCE_COLUMNS,
        UnknownStory,
        story_profile,
    )

    with engine_for(database_url) as engine:
        try:
            p = story_profile(engine, story_id)
        except UnknownStory as exc:
            raise ConfigError(f"{exc} (try `newsstream query stories`)") from None
        p["articles"] = shorten(engine, fmt, p["articles"], "id")  # tables: short article ids
    if fmt == "json":
        click.echo(json.dumps(p, ensure_ascii=False, default=str, indent=2))
        return
    s = p["story"]
    if s["id"] != story_id:
        say(f"story {story_id} was merged into story {s['id']}", event="story_merged", story_id=story_id,
            into=s["id"])
    if fmt == "table":
        click.echo(f"story {s['id']}: {s['articles']} articles, {s['sources']} sources, {s['first_seen']} .. "
                   f"{s['last_seen']}, country {s['country'] or '-'}; main event: {s['main_event'] or '-'}")
    for title, key, cols in (("articles", "articles", ARTICLE_COLUMNS), ("sources", "sources", SOURCE_COLUMNS),
                             ("events", "events", EVENT_COLUMNS)):
        if fmt == "csv":
            click.echo(f"# {title}")
        emit(p[key], fmt, title=f"{title} of story {s['id']}", columns=cols)


def register(group: click.Group) -> None:
    group.add_command(stories_cmd)
    group.add_command(story_cmd)
