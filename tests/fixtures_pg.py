"""Throwaway PostgreSQL server fixtures: a REAL server from the system binaries, no Docker, no mocks.

* ``pg_server`` (session): one server in a temp dir on a free port; ``.url(db)``,
  ``.create_database(name)``, ``.drop_database(name)``, ``.stop()``, ``.start()``.
* ``db_url`` (function, parametrized ``sqlite`` / ``postgresql``): a fresh database migrated to head.
* ``blank_db_url``: the same, not migrated.   ``engine``: an engine on ``db_url``.

The server is ``devtools.pgserver.PgServer`` (shared with ``newsstream bench``); as root it
runs as the ``postgres`` user. Without the binaries the PostgreSQL tests skip, except in CI
(``CI=true``) where they fail. ``PG_BIN=/path/to/bin`` picks the binaries explicitly.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.pgserver import PG_ROOT, PgServer, find_pg_bin

__all__ = ["PgServer", "blank_db_url", "db_url", "engine", "find_pg_bin", "pg_server"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the whole session (skips without binaries, fails in CI)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        where = os.environ.get("PG_BIN") or f"{PG_ROOT}/*/bin"
        msg = f"PostgreSQL server binaries (initdb, pg_ctl) not found in {where} (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL tests must run in CI: {msg}")
        pytest.skip(msg)
    server = PgServer(bin_dir)
    try:
        server.init()
        server.start()
    except BaseException:
        server.cleanup()
        raise
    yield server
    server.cleanup()


BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def _fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsstream.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    server.start()  # no-op when running; brings it back if an earlier test stopped it
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    yield url
    if server.running:
        with contextlib.suppress(Exception):
            server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables) on SQLite or PostgreSQL."""
    with _fresh_database(request, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head, on SQLite or PostgreSQL."""
    from pipeline.store.db import upgrade

    with _fresh_database(request, tmp_path) as url:
        upgrade(url)
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[object]:
    from pipeline.store.db import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()
