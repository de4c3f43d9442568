"""`produce --follow` and input that could hurt it: a symlink out of the folder, a huge file, a file
still being written in chunks seconds apart; and what remembering a file costs as the folder grows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.config import Settings
from producers.follow import DirectoryFollower
from tests.test_produce import ROOT, articles_on
from tests.test_produce_follow import article, stop, wait_for


def written_bytes() -> int:
    """Bytes this process handed to write() so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


def test_remembering_a_file_costs_the_same_with_100_or_1000_files_done(tmp_path: Path) -> None:
    if not Path("/proc/self/io").exists():
        pytest.skip("needs Linux's /proc/self/io")
    follower = DirectoryFollower([str(tmp_path / "inbox")], tmp_path / "state", topic="t")
    name = str(tmp_path / "inbox" / "f")

    def cost_of_next_100(start: int) -> int:
        before = written_bytes()
        for n in range(start, start + 100):
            follower.mark_done(f"{name}{n:06d}.jsonl", (n, n))
        return written_bytes() - before

    for n in range(100):
        follower.mark_done(f"{name}{n:06d}.jsonl", (n, n))
    at_100 = cost_of_next_100(100)
    for n in range(200, 1000):
        follower.mark_done(f"{name}{n:06d}.jsonl", (n, n))
    at_1000 = cost_of_next_100(1000)
    follower.close()
    assert at_1000 < 2 * at_100, (at_100, at_1000)  # flat; the old JSON rewrite grew tenfold
    again = DirectoryFollower([str(tmp_path / "inbox")], tmp_path / "state", topic="t")
    assert len(again.done) == 1100 and again.done[f"{name}000999.jsonl"] == (999, 999)  # kept across restarts
    again.close()


def test_the_old_json_state_is_taken_over(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(article(1) + "\n")
    follower = DirectoryFollower([str(inbox)], tmp_path, topic="t", settle=0)
    ((path, sig),) = follower.scan()
    follower.close()
    old = follower.state_path.with_suffix(".json")
    follower.state_path.unlink()
    old.write_text(json.dumps({"paths": [str(inbox.resolve())], "files": {path: list(sig)}}))
    again = DirectoryFollower([str(inbox)], tmp_path, topic="t", settle=0)
    assert again.scan() == [] and not old.exists()  # done already, by the old state
    again.close()


def start(settings: Settings, inbox: Path, state: Path, **env: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "newsstream_cli", "produce", "--follow", str(inbox),
           "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.topic, "--metrics-port", "-1",
           "--state-dir", str(state)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})


@pytest.mark.kafka
def test_follow_skips_links_out_of_the_folder_and_files_over_the_cap(kafka_settings: Settings,
                                                                      tmp_path: Path) -> None:
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    secret = elsewhere / "secret.json"
    secret.write_text(json.dumps({"title": "Secret", "body": "Not for the topic.", "url": "https://s/1"}))
    (inbox / "leak.json").symlink_to(secret)
    (inbox / "kept.jsonl").write_text(article(1) + "\n")
    (inbox / "alias.jsonl").symlink_to(inbox / "kept.jsonl")  # a link inside the folder is fine
    (inbox / "huge.jsonl").write_text((article(2) + "\n") * 100)  # about 8 kB, over the 2 kB cap
    proc = start(kafka_settings, inbox, tmp_path / "state", NEWSSTREAM_FOLLOW_MAX_FILE_BYTES="2000")
    try:
        wait_for(kafka_settings, 1, proc)
        time.sleep(3)  # several scans: each refusal is reported once
    finally:
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert [a.title for a in articles_on(kafka_settings, 1)] == ["Story 1"]
    assert err.count(f"{inbox / 'leak.json'}: rejected (outside_folder)") == 1, err
    assert err.count(f"{inbox / 'huge.jsonl'}: rejected (file_too_large)") == 1, err
    assert out.strip() == ("sent 1, duplicates 1, rejected 2 (file_too_large: 1, outside_folder: 1), "
                           "delivery failures 0"), err


@pytest.mark.kafka
def test_a_file_written_in_two_chunks_seconds_apart_is_read_once_whole(kafka_settings: Settings,
                                                                       tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = start(kafka_settings, inbox, tmp_path / "state")
    try:
        time.sleep(1.5)
        text = json.dumps({"title": "Two chunks", "body": "Written in two goes.", "url": "https://ex.org/2c"},
                          indent=1)
        with (inbox / "slow.json").open("w") as f:
            f.write(text[:35])
            f.flush()
            time.sleep(3)
            f.write(text[35:])
        wait_for(kafka_settings, 1, proc)
    finally:
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "bad_json" not in err and out.strip() == "sent 1, duplicates 0, rejected 0, delivery failures 0", err
    assert [a.title for a in articles_on(kafka_settings, 1)] == ["Two chunks"]
