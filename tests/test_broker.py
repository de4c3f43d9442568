"""`newsstream broker start|stop|status` runs a real KRaft broker; missing tools get a one-line error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.bus.broker import LocalBroker, free_port, port_open, port_taken

ROOT = Path(__file__).resolve().parent.parent
NS = [sys.executable, "-m", "newsstream_cli"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*NS, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


@pytest.mark.kafka
def test_start_twice_status_and_stop(tmp_path: Path, kafka_broker: LocalBroker) -> None:
    home = tmp_path / "broker"
    home.mkdir()
    (home / "jars").symlink_to(kafka_broker.jars_dir)  # the jars the session broker already resolved
    port = free_port()
    env = {**os.environ, "NEWSSTREAM_BROKER_HOME": str(home), "NEWSSTREAM_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    try:
        first = run("broker", "start", env=env)
        assert first.returncode == 0, first.stderr
        assert f"listening on 127.0.0.1:{port}" in first.stdout
        second = run("broker", "start", env=env)
        assert second.returncode == 0 and second.stdout.startswith("already running")
        status = run("broker", "status", env=env)
        assert status.returncode == 0 and f"127.0.0.1:{port}" in status.stdout
        assert (home / "logs" / "server.log").stat().st_size > 0
    finally:
        stopped = run("broker", "stop", env=env)
    assert stopped.stdout.strip() == "stopped"
    after = run("broker", "status", env=env)
    assert after.returncode == 3 and after.stdout.startswith("not running")


def test_missing_java_or_maven_gets_a_one_line_error(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare), "NEWSSTREAM_BROKER_HOME": str(tmp_path / "home"),
           "NEWSSTREAM_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    res = run("broker", "start", env=env, timeout=60)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "'java' not found" in lines[0] and "apt-get install openjdk-17-jre-headless" in lines[0]


def test_status_of_a_broker_never_started(tmp_path: Path) -> None:
    st = LocalBroker(tmp_path, port=12345).status()
    assert not st.running and "127.0.0.1:12345" in st.describe()


def _ports(n: int) -> int:
    """A port p with p .. p + n - 1 all free."""
    for _ in range(100):
        p = free_port()
        if p + n < 65535 and all(not port_taken("127.0.0.1", p + i) for i in range(1, n)):
            return p
    raise RuntimeError("no free port range")


def _listen(port: int) -> socket.socket:
    """Another process's server on ``port`` (what another Kafka's controller looks like to ours)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def _home(tmp_path: Path, kafka_broker: LocalBroker) -> Path:
    home = tmp_path / "broker"
    home.mkdir()
    (home / "jars").symlink_to(kafka_broker.jars_dir)
    return home


@pytest.mark.kafka
def test_a_stale_controller_port_is_not_reused_and_both_ports_can_be_chosen(
        tmp_path: Path, kafka_broker: LocalBroker) -> None:
    """Issue 18.2: the last run's broker.json named a controller port another Kafka now holds;
    `NEWSSTREAM_BOOTSTRAP_SERVERS=...:P broker start` must start on P and P + 1, not crash in Java."""
    home = _home(tmp_path, kafka_broker)
    port, other = _ports(2), free_port()
    other_kafka = _listen(other)
    (home / "broker.json").write_text(json.dumps({"port": 9092, "controller_port": other}))
    env = {**os.environ, "NEWSSTREAM_BROKER_HOME": str(home), "NEWSSTREAM_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    try:
        res = run("broker", "start", env=env)
        assert res.returncode == 0, res.stderr
        assert f"listening on 127.0.0.1:{port}" in res.stdout
        assert port_open("127.0.0.1", port + 1)  # the controller, beside the listener
        assert run("broker", "stop", env=env).stdout.strip() == "stopped"
        controller = _ports(1)
        res = run("broker", "start", "--port", str(port), "--controller-port", str(controller), env=env)
        assert res.returncode == 0, res.stderr
        assert port_open("127.0.0.1", controller) and not port_open("127.0.0.1", port + 1)
    finally:
        run("broker", "stop", env=env)
        other_kafka.close()


@pytest.mark.kafka
@pytest.mark.parametrize("taken", ["controller", "listener"])
def test_a_taken_port_is_reported_in_one_line_before_the_broker_starts(
        tmp_path: Path, kafka_broker: LocalBroker, taken: str) -> None:
    home = _home(tmp_path, kafka_broker)
    port = _ports(2)
    held = port + 1 if taken == "controller" else port
    other_kafka = _listen(held)
    env = {**os.environ, "NEWSSTREAM_BROKER_HOME": str(home)}
    try:
        res = run("broker", "start", "--port", str(port), env=env, timeout=60)
    finally:
        other_kafka.close()
        run("broker", "stop", env=env)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr  # no Java stack trace
    line = json.loads(lines[0])  # stderr is not a terminal: one structured line
    flag = "--controller-port" if taken == "controller" else "--port"
    message = line["message"]
    assert line["level"] == "error" and line["exit_code"] == 1
    assert f"port {held} on 127.0.0.1" in message and f"{taken} port" in message and message.endswith(flag)
    assert not (home / "logs" / "server.log").exists()  # checked up front: Kafka never ran


def test_the_same_port_for_listener_and_controller_is_refused(tmp_path: Path) -> None:
    port = _ports(1)
    res = run("broker", "start", "--port", str(port), "--controller-port", str(port),
              env={**os.environ, "NEWSSTREAM_BROKER_HOME": str(tmp_path / "home")}, timeout=60)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "--controller-port" in res.stderr
