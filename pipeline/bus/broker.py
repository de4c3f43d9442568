"""A local Apache Kafka broker without Docker.

The pinned release (``pipeline/bus/kafka/pom.xml``, package data) is resolved from Maven Central with Maven,
its jars cached in ``<home>/jars``; KRaft storage is formatted once and ``kafka.Kafka``
runs as one combined broker + controller on 127.0.0.1. Knows nothing of SQL or spaCy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pipeline.errors import BrokerError, ToolMissing

POM = Path(str(resources.files(__package__ or "pipeline.bus").joinpath("kafka", "pom.xml")))  # package data
HEAP = os.environ.get("KAFKA_HEAP_OPTS", "-Xms256m -Xmx768m")

LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
"""


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ToolMissing(f"'{name}' not found on PATH: install it, e.g. `apt-get install {package}`")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def two_free_ports(host: str = "127.0.0.1") -> int:
    """A free port p with p + 1 free too (worker i of ``consume --workers`` serves the metrics port + i)."""
    for _ in range(50):
        p = free_port(host)
        with socket.socket() as sock:
            try:
                sock.bind((host, p + 1))
            except OSError:
                continue
        return p
    raise RuntimeError("no two consecutive free ports")


def port_taken(host: str, port: int) -> bool:
    """True when a process listens on (or holds) ``host:port``, so a server could not bind it."""
    if port_open(host, port):
        return True
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Java does: TIME_WAIT is no clash
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


_BIND_FAILED = re.compile(r"failed to bind to ([^\s:]+:\d+)", re.I)


@dataclass
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    log: Path
    home: Path

    def describe(self) -> str:
        if self.running:
            return f"running (pid {self.pid}) listening on {self.bootstrap}; log {self.log}"
        return f"not running (would listen on {self.bootstrap}); home {self.home}"


class LocalBroker:
    """One KRaft broker+controller process managed through files under ``home``."""

    def __init__(self, home: str | Path, *, port: int = 9092, controller_port: int | None = None,
                 host: str = "127.0.0.1", jars_dir: str | Path | None = None) -> None:
        self.home = Path(home).resolve()
        self.host = host
        self.jars_dir = Path(jars_dir).resolve() if jars_dir else self.home / "jars"
        self.data_dir = self.home / "data"
        self.log_file = self.home / "logs" / "server.log"
        self.pid_file = self.home / "broker.pid"
        self.state_file = self.home / "broker.json"
        self.port = port
        # Chosen here, never re-read from the last run's broker.json: a stale controller port
        # (9093 from a run on 9092) would clash with another Kafka the new --port avoids.
        self.controller_port = controller_port or port + 1

    # -- files ----------------------------------------------------------------
    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def status(self) -> BrokerStatus:
        pid = self._pid()
        running = pid is not None and pid_alive(pid)
        if running:
            state = self._read_state()
            self.port = state.get("port", self.port)
        return BrokerStatus(running, pid if running else None, self.bootstrap, self.log_file, self.home)

    # -- jars -----------------------------------------------------------------
    def ensure_jars(self, *, quiet: bool = True) -> Path:
        """Resolve the pinned Kafka release from Maven Central into ``jars_dir`` (once).

        Processes that start a broker at the same moment (two test workers, two ``broker start``) take a
        file lock beside ``jars_dir``: one resolves, the others wait and then find the jars. Without it, a
        second resolution replaced the directory under a broker already starting from it ("Could not find
        or load main class kafka.tools.StorageTool").
        """
        if self._have_jars():
            return self.jars_dir
        self.jars_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.jars_dir.with_name(self.jars_dir.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self._have_jars():  # resolved by whoever held the lock before us
                self._resolve_jars(quiet)
        return self.jars_dir

    def _have_jars(self) -> bool:
        return self.jars_dir.is_dir() and any(self.jars_dir.glob("kafka_2.13-*.jar"))

    def _resolve_jars(self, quiet: bool) -> None:
        require_tool("java", "openjdk-17-jre-headless")
        mvn = require_tool("mvn", "maven")
        tmp = self.jars_dir.with_name(f"{self.jars_dir.name}.partial-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={tmp}"]
        if quiet:
            cmd.insert(1, "-q")
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            shutil.rmtree(tmp, ignore_errors=True)
            tail = (res.stdout + res.stderr).strip().splitlines()[-5:]
            raise BrokerError("Maven could not resolve Kafka from Maven Central: " + " | ".join(tail))
        shutil.rmtree(self.jars_dir, ignore_errors=True)
        tmp.rename(self.jars_dir)

    def _java(self, main: str, *args: str, **popen) -> list[str]:
        java = require_tool("java", "openjdk-17-jre-headless")
        return [java, *HEAP.split(), "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
                "-cp", f"{self.jars_dir}/*", main, *args]

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        (self.home / "log4j.properties").write_text(LOG4J)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
            "message.max.bytes": str(8 * 1024 * 1024),
            "replica.fetch.max.bytes": str(8 * 1024 * 1024),
        }
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def _format_storage(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = uuid.uuid4().hex[:22]
        res = subprocess.run(self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config),
                                        "--ignore-formatted"), capture_output=True, text=True)
        if res.returncode:
            raise BrokerError(f"formatting KRaft storage failed: {(res.stdout + res.stderr).strip()[-500:]}")

    # -- lifecycle ------------------------------------------------------------
    def start(self, *, timeout: float = 90.0) -> BrokerStatus:
        """Start the broker and wait until it answers; starting twice is harmless."""
        st = self.status()
        if st.running:
            return st
        require_tool("java", "openjdk-17-jre-headless")  # what is missing before what is busy
        self.check_ports()
        self.ensure_jars()
        config = self._write_config()
        self._format_storage(config)
        self.state_file.write_text(json.dumps({"port": self.port, "controller_port": self.controller_port}))
        log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(self._java("kafka.Kafka", str(config)), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home)
        self.pid_file.write_text(str(proc.pid))
        self._wait_ready(proc, timeout, log_start)
        return self.status()

    def check_ports(self) -> None:
        """Both ports free, or a one-line BrokerError naming the port and the flag that moves it."""
        if self.port == self.controller_port:
            raise BrokerError(f"the listener and the controller port are both {self.port}; "
                              "give --controller-port another one")
        for port, what, flag in ((self.port, "listener", "--port"),
                                 (self.controller_port, "controller", "--controller-port")):
            if port_taken(self.host, port):
                raise BrokerError(f"port {port} on {self.host} (the broker's {what} port) is taken by another "
                                  f"process; choose another with {flag}")

    def _bind_failure(self, log_start: int) -> str | None:
        """The address the broker could not bind, from what it logged since ``log_start``."""
        try:
            with open(self.log_file, "rb") as fh:
                fh.seek(log_start)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return None
        found = _BIND_FAILED.search(text)
        return found.group(1) if found else None

    def _wait_ready(self, proc: subprocess.Popen, timeout: float, log_start: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                address = self._bind_failure(log_start)
                if address:  # taken between the check and the start: still one line
                    flag = "--controller-port" if address.endswith(f":{self.controller_port}") else "--port"
                    raise BrokerError(f"the broker could not bind {address}: another process holds it; "
                                      f"choose another with {flag} (log: {self.log_file})")
                raise BrokerError(f"broker exited with code {proc.returncode}; see {self.log_file}:\n"
                                  + self._log_tail())
            if port_open(self.host, self.port) and self._metadata_ok():
                return
            time.sleep(0.5)
        raise BrokerError(f"broker did not answer on {self.bootstrap} within {timeout:.0f}s; see {self.log_file}")

    def _metadata_ok(self) -> bool:
        from kafka.admin import KafkaAdminClient

        from pipeline.bus.logbridge import bridge_client_logs

        bridge_client_logs()  # a broker that is still starting makes the client complain: keep it quiet
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, bootstrap_timeout_ms=3000,
                                     request_timeout_ms=3000)
        except Exception:
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except Exception:
            return False
        finally:
            admin.close()

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, *, timeout: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``); True if it was running."""
        pid = self._pid()
        if pid is None or not pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                _reap(pid)
                time.sleep(0.1)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True


def _reap(pid: int) -> None:
    """Collect the exit status when the broker is our own child (tests start it in-process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


if __name__ == "__main__":  # pragma: no cover - debugging aid
    print(LocalBroker(sys.argv[1] if len(sys.argv) > 1 else ".kafka").status().describe())
