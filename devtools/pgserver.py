"""A throwaway PostgreSQL server from the system binaries: for the tests and ``newsstream bench``.

No Docker and no mocks: ``initdb`` into a temp dir, ``pg_ctl start`` on a free port of 127.0.0.1
with trust authentication, removed again by :meth:`PgServer.cleanup`. PostgreSQL refuses to run as
root, so as root every server command runs as the ``postgres`` user the Debian package creates.
``PG_BIN=/path/to/bin`` picks the binaries explicitly (layouts other than Debian's).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

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
        return int(s.getsockname()[1])


def _safe(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r} (letters, digits and underscores only)")
    return name


def _admin(server_url: str, sql: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(server_url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                         dbname=u.database or "postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def create_database(server_url: str, name: str) -> str:
    """CREATE DATABASE ``name`` on the server of ``server_url`` (any server); returns its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    _admin(server_url, f'CREATE DATABASE "{_safe(name)}" TEMPLATE template0')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """DROP DATABASE ``name`` (if it exists) on the server of ``server_url``, closing its connections."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{_safe(name)}" WITH (FORCE)')


class PgServer:
    """One PostgreSQL cluster in a temp dir, reachable on 127.0.0.1:port with trust auth.

    ``fsync=False`` (the tests) trades durability against a power cut for speed; commits still
    survive a server stop or crash. The benchmarks keep the default, ``fsync=True``.
    """

    def __init__(self, bin_dir: Path, *, fsync: bool = False, max_connections: int = 200,
                 prefix: str = "newsstream-pg-") -> None:
        self.bin_dir = bin_dir
        self.fsync = fsync
        self.max_connections = max_connections
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
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
            opts = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                    f"-c max_connections={self.max_connections}")
            if not self.fsync:  # no synchronous_commit=off: stop() must not lose commits
                opts += " -c fsync=off"
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
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases --------------------------------------------------------------------------
    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3). Trust auth: any password is accepted (to test masking)."""
        auth = f"{PG_USER}:{password}" if password else PG_USER
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscore) and return its URL."""
        create_database(self.url(), name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        drop_database(self.url(), name)
