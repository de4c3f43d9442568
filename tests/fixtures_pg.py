"""Throwaway PostgreSQL server fixtures: a REAL server from the system binaries, no Docker, no mocks.

* ``pg_server`` (session): one server in a temp dir on a free port; ``.url(db)``,
  ``.create_database(name)``, ``.drop_database(name)``, ``.stop()``, ``.start()``.
* ``db_url`` (function, parametrized ``sqlite`` / ``postgresql``): a fresh database migrated to head.
* ``blank_db_url``: the same, not migrated.   ``engine``: an engine on ``db_url``.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user.
Without the binaries the PostgreSQL tests skip, except in CI (``CI=true``) where they fail.
``PG_BIN=/path/to/bin`` picks the binaries explicitly (other layouts than Debian's).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "postgres"


def find_pg_bin() -> Path | None:
    """``$PG_BIN`` if set, else the bin dir of the newest version under /usr/lib/postgresql, else None."""
    if os.environ.get("PG_BIN"):
        bin_dir = Path(os.environ["PG_BIN"])
        return bin_dir if (bin_dir / "pg_ctl").exists() and (bin_dir / "initdb").exists() else None
    found = [p.parent for p in PG_ROOT.glob("*/bin/pg_ctl") if (p.parent / "initdb").exists()]

    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in bin_dir.parent.name.split(".") if x.isdigit())

    return max(found, key=version) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster in a temp dir, reachable on 127.0.0.1:port with trust auth."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="newsstream-pg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.sockets.mkdir()
        if self.as_postgres:
            shutil.chown(self.root, PG_USER, PG_USER)
            shutil.chown(self.sockets, PG_USER, PG_USER)
        self.port = _free_port()
        self.running = False

    # -- process control ----------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "LC_ALL": "C", "TZ": "UTC"})
        if check and proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stdout}{proc.stderr}"
                               f"{self._log_tail()}")
        return proc

    def _log_tail(self) -> str:
        try:
            return "\nserver log:\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    def start(self) -> None:
        """Start the server (again) on its port; waits until it accepts connections."""
        if self.running:
            return
        for attempt in range(3):
            opts = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c max_connections=200")  # no synchronous_commit=off: stop() must not lose commits
            proc = self._run("pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.log),
                             "-o", opts, check=False)
            if proc.returncode == 0:
                self.running = True
                return
            if attempt < 2 and "could not bind" in self._log_tail():  # the free port got taken: try another
                self.port = _free_port()
                continue
            raise RuntimeError(f"pg_ctl start failed: {proc.stdout}{proc.stderr}{self._log_tail()}")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate`` = like a crash; ``fast`` = clean shutdown)."""
        if self.running:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60", check=False)
            self.running = False

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases --------------------------------------------------------------------------
    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3). Trust auth: any password is accepted (to test masking)."""
        auth = f"{PG_USER}:{password}" if password else PG_USER
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscore) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
