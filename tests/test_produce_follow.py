"""`produce --follow DIR` as a real process against the real broker: files picked up as they land,
stopped with SIGINT or SIGTERM (flushes, exit 0), restarted: nothing is sent twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.test_produce import ROOT, articles_on, topic_size

pytestmark = pytest.mark.kafka


def start(settings: Settings, inbox: Path, state: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox),
           "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.topic, "--metrics-port", "-1",
           "--state-dir", str(state)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen, sig: signal.Signals = signal.SIGTERM) -> tuple[str, str]:
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def wait_for(settings: Settings, count: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if topic_size(settings.bootstrap_servers, settings.topic) >= count:
            return
        time.sleep(0.3)
    out, err = stop(proc)
    pytest.fail(f"the topic never held {count} messages; produce said: {out} {err}")


def article(n: int) -> str:
    return json.dumps({"title": f"Story {n}", "body": f"Body of story {n}.", "url": f"https://ex.org/{n}"})


def test_follow_picks_up_new_files_and_a_restart_resends_nothing(kafka_settings: Settings,
                                                                 tmp_path: Path) -> None:
    inbox, state = tmp_path / "inbox", tmp_path / "state"
    inbox.mkdir()
    (inbox / "already-there.jsonl").write_text(article(1) + "\n" + article(2) + "\n")
    proc = start(kafka_settings, inbox, state)
    try:
        wait_for(kafka_settings, 2, proc)
        (inbox / "landed.txt").write_text("date 2024-05-01 World\n\nA lead.\n\nLISBON – The body.\n")
        partial = (inbox / "slow.jsonl").open("w")  # written in two steps: must not be read half-way
        partial.write(article(3)[:20])
        partial.flush()
        time.sleep(0.3)
        partial.write(article(3)[20:] + "\n")
        partial.close()
        (inbox / ".incoming.json").write_text(article(99))  # hidden: still being written elsewhere
        wait_for(kafka_settings, 4, proc)
    finally:
        out, err = stop(proc, signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
    assert proc.returncode == 0, err
    assert out.strip() == "sent 4, duplicates 0, rejected 0, delivery failures 0", err

    (inbox / "while-down.jsonl").write_text(article(4) + "\n" + article(1) + "\n")  # 1 was sent already
    proc = start(kafka_settings, inbox, state)
    try:
        wait_for(kafka_settings, 5, proc)
        with (inbox / "already-there.jsonl").open("a") as f:  # a followed file grows
            f.write(article(5) + "\n")
        wait_for(kafka_settings, 6, proc)
    finally:
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "landed.txt" not in err and "slow.jsonl" not in err  # done files are not read again
    assert out.strip() == "sent 2, duplicates 3, rejected 0, delivery failures 0", err
    got = articles_on(kafka_settings, 6)
    assert sorted(a.title for a in got) == ["A lead", *(f"Story {n}" for n in range(1, 6))]  # seed: its lead
    assert len({a.id for a in got}) == 6


def test_follow_refuses_stdin(kafka_settings: Settings, tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "newsstream_cli", "produce", "--follow", "-",
                          "--bootstrap-servers", kafka_settings.bootstrap_servers], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "not stdin" in res.stderr
