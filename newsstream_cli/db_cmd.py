"""``newsstream db``: create, upgrade, downgrade and inspect the database schema (Alembic); rebuild the counts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from pipeline.errors import NewsstreamError
from pipeline.logs import say, stderr_format

_url_option = click.option(
    "--database-url", default=None, metavar="URL",
    help="SQLAlchemy URL (default: NEWSSTREAM_DATABASE_URL, else sqlite:///newsstream.db).")


def _run(database_url: str | None, action: Callable[[str, str], str]) -> None:
    """Resolve the URL, run ``action(url, shown_url)``, print its line; errors: one line on stderr, exit 1."""
    from pipeline.config import load_settings
    from pipeline.store.db import safe_url

    try:
        settings = load_settings(database_url=database_url)
        url = settings.database_url_with_password()
        click.echo(action(url, safe_url(url)))
    except NewsstreamError as exc:
        say(f"error: {exc}", event="command_failed", level="error", error=str(exc), exit_code=1)
        raise SystemExit(1) from None


@click.group("db")
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@_url_option
def upgrade(revision: str, database_url: str | None) -> None:
    """Create the tables, or bring them up to REVISION."""
    from pipeline.store import db as store

    _run(database_url, lambda url, shown: f"{shown}: upgraded to {store.upgrade(url, revision) or 'base'}")


def _articles(url: str) -> int | None:
    """How many articles the database holds (None: no articles table)."""
    import sqlalchemy as sa

    from pipeline.store.db import make_engine, translate_errors

    engine = make_engine(url)
    try:
        with translate_errors(url), engine.connect() as conn:
            if not sa.inspect(conn).has_table("articles"):
                return None
            return int(conn.execute(sa.text("SELECT count(*) FROM articles")).scalar_one())
    finally:
        engine.dispose()


@db.command()
@click.option("--revision", default="-1", show_default=True,
              help='Alembic revision to go down to ("-1" = one step, "base" = drop everything).')
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation (scripts)")
@_url_option
def downgrade(revision: str, yes: bool, database_url: str | None) -> None:
    """Undo migrations down to REVISION: what the later migrations added is dropped, with its data.

    Asks for confirmation first (saying how many articles the database holds); --yes does not ask.
    Without a terminal to answer, nothing changes unless --yes is given.
    """
    from pipeline.store import db as store

    def run(url: str, shown: str) -> str:
        if not yes:
            rev, held = store.current(url), _articles(url)
            if rev is None:
                return f"{shown}: not initialised: nothing to downgrade"
            what = ("drops every newsstream table" if revision == "base"
                    else "drops the tables and columns added after it, with their data")
            held_text = f"; the database holds {held:,} articles" if held else ""
            question = f"{shown}: downgrade from {rev} to {revision}? This {what}{held_text}. Continue?"
            if not _confirm(question, revision=rev, to=revision, articles=held):
                raise _NotConfirmed("downgrade not confirmed: nothing changed (--yes downgrades without asking)")
        return f"{shown}: downgraded to {store.downgrade(url, revision) or 'base'}"

    _run(database_url, run)


class _NotConfirmed(NewsstreamError):
    pass


def _confirm(question: str, **fields: Any) -> bool:
    """Ask on stderr, the answer from stdin (none: no). Off a terminal the question is one JSON line
    (event ``downgrade_question``) and a line of stdin answers it."""
    if stderr_format() == "console":
        try:
            return click.confirm(question, default=False, err=True)
        except click.Abort:  # no answer (end of input, Ctrl-C): no, on a line of its own
            click.echo(err=True)
            return False
    say(f"{question} [y/N]", event="downgrade_question", level="warning", **fields)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


@db.command()
@_url_option
def current(database_url: str | None) -> None:
    """Show the revision the database is at."""
    from pipeline.store import db as store

    def show(url: str, shown: str) -> str:
        rev, head = store.current(url), store.head()
        if rev is None:
            return f"{shown}: not initialised (run `newsstream db upgrade`; head is {head})"
        if rev == head:
            return f"{shown}: {rev} (head)"
        return f"{shown}: {rev} (head is {head}: run `newsstream db upgrade`)"

    _run(database_url, show)


@db.command("rebuild-counts")
@_url_option
def rebuild_counts(database_url: str | None) -> None:
    """Recompute the entity counts from the mentions.

    The tables article_entities and entity_stats serve `newsstream query`; the writer keeps them
    exact. Run this after deleting or changing mentions or articles by hand.
    """
    from pipeline.store.counts import rebuild_counts as rebuild
    from pipeline.store.db import make_engine

    def run(url: str, shown: str) -> str:
        engine = make_engine(url)
        try:
            done = rebuild(engine)
        finally:
            engine.dispose()
        return (f"{shown}: counts rebuilt: {done.article_entities:,} (article, entity) rows, "
                f"{done.entity_stats:,} entities")

    _run(database_url, run)
