"""Engines and schema migrations (Alembic, run programmatically).

``make_engine`` gives an engine tuned per dialect; ``upgrade`` / ``downgrade`` / ``current``
drive the migrations in the repository's ``migrations/`` folder. Database errors that a
retry can fix surface as :class:`pipeline.errors.DatabaseUnavailable`, never with a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from pipeline.errors import ConfigError, DatabaseUnavailable, NewsstreamError
from pipeline.store import pgerrors

MIGRATIONS = Path(str(resources.files("migrations")))  # a package of its own, shipped in the wheel
SQLITE_BUSY_TIMEOUT_MS = 30_000
IMMEDIATE = "newsstream_sqlite_immediate"  # execution option: BEGIN IMMEDIATE on SQLite (writers)


class SchemaMissing(DatabaseUnavailable):
    """The tables are not there (yet), or the schema is behind the code: run ``newsstream db upgrade``."""


class DatabaseFailed(NewsstreamError):
    """An error the database reports that is neither an outage nor the data's fault (a wrong password...)."""


class RefusedByDatabase(NewsstreamError):
    """The database refused the data (a value too large for an index, too long for its column...):
    the item's fault, never an outage; the writer finds the item and refuses it alone."""


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: drop anything that may hold credentials
        return url.rsplit("@", 1)[-1]


def url_hint(url: str) -> str:
    """What to write instead of ``url`` when it is not a URL: a file path becomes a SQLite URL."""
    if "://" in url or not url.strip():
        return "a URL is DIALECT://..., e.g. sqlite:///newsstream.db or postgresql+psycopg://user@host/db"
    return f"for a SQLite file write sqlite:///{url.strip()} (sqlite:/// and then the path)"


def invalid_url(url: str, exc: Exception) -> ConfigError:
    """The error for a database URL SQLAlchemy cannot parse, with a hint at the right form."""
    return ConfigError(f"invalid database URL {safe_url(url)!r}: {exc}; {url_hint(url)}")


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite gets foreign keys, WAL and a busy timeout; PostgreSQL pre-ping."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise invalid_url(url, exc) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = create_engine(parsed, **kwargs)
        _sqlite_events(engine, foreign_keys=sqlite_foreign_keys,
                       memory=parsed.database in (None, "", ":memory:"))
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    return create_engine(parsed, **kwargs)


def _sqlite_events(engine: Engine, *, foreign_keys: bool, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below): real transactions
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads first and
        # writes later fails at once with "database is locked" when another writer got in between.
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_MISSING = re.compile(r"no such table|no such column|UndefinedTable|UndefinedColumn|relation .* does not exist"
                      r"|column .* does not exist", re.I)


def _reason(exc: sa_exc.DBAPIError, url: str) -> str:
    text = str(exc.orig or exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    password = make_url(url).password if "://" in url else None
    return reason.replace(str(password), "***") if password else reason


def _schema_missing(url: str, reason: str) -> SchemaMissing:
    """"schema at 0003, this version needs 0004" when the database is behind, else "no schema"."""
    try:
        rev, want = current(url), head()
    except Exception:  # the message is what matters here
        rev, want = None, None
    if rev and want and rev != want:
        return SchemaMissing(f"database {safe_url(url)}: schema at {rev}, this version needs {want}: "
                             "run `newsstream db upgrade`")
    return SchemaMissing(f"database {safe_url(url)} has no newsstream schema ({reason}): "
                         "run `newsstream db upgrade`")


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Database errors into ours: a missing schema -> SchemaMissing; "unavailable" (the one list in
    ``pgerrors``) -> DatabaseUnavailable (retriable); data the database refuses -> RefusedByDatabase."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        reason = _reason(exc, url)
        if isinstance(exc, sa_exc.OperationalError | sa_exc.ProgrammingError | sa_exc.InterfaceError) and (
                _MISSING.search(reason) or _MISSING.search(type(exc.orig).__name__)):
            raise _schema_missing(url, reason) from None
        if pgerrors.is_unavailable(exc):
            if exc.connection_invalidated and not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
                raise DatabaseUnavailable(f"lost the connection to {safe_url(url)}: {reason}") from None
            raise DatabaseUnavailable(f"database {safe_url(url)} is unavailable: {reason}") from None
        if pgerrors.is_item_error(pgerrors.sqlstate(exc)):
            raise RefusedByDatabase(reason) from exc
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):  # e.g. a wrong password
            raise DatabaseFailed(f"database {safe_url(url)} refused: {reason}") from None
        raise


# -- migrations ------------------------------------------------------------------------------------

def _alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _run(url: str, fn: Any) -> str | None:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    engine = make_engine(url, sqlite_foreign_keys=False)  # Alembic's advice for SQLite batch migrations
    try:
        with translate_errors(url), engine.begin() as conn:
            fn(_alembic_config(conn))
            return _current(conn)
    except (CommandError, RevisionError) as exc:
        raise ConfigError(f"migration failed: {exc}") from None
    finally:
        engine.dispose()


def _current(conn: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(heads) if heads else None


def upgrade(url: str, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision``; returns the revision it is now at."""
    from alembic import command

    return _run(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str) -> str | None:
    """Migrate down to ``revision`` ("-1", "base", an id); returns the revision it is now at (None = base)."""
    from alembic import command

    return _run(url, lambda cfg: command.downgrade(cfg, revision))


def current(url: str) -> str | None:
    """The revision the database is at (None: not migrated yet; a missing SQLite file is not created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists():
        return None
    engine = make_engine(url)
    try:
        with translate_errors(url), engine.connect() as conn:
            return _current(conn)
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision in ``migrations/versions``."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return ",".join(heads)
