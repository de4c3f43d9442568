"""`newsstream broker start|stop|status` runs a real KRaft broker; missing tools get a one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.bus.broker import LocalBroker, free_port

ROOT = Path(__file__).resolve().parent.parent
NS = [sys.executable, "-m", "pipeline.cli"]


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
