"""Issue 17.4: every line a command writes to stderr is a JSON log line when stderr is not a terminal
(event, level, timestamp, message and its fields); a terminal, or NEWSSTREAM_LOG_FORMAT=console, keeps
the readable lines. Real commands, run as subprocesses with stderr piped."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"event", "level", "timestamp", "message"}


def newsstream(*args: str, stdin: str = "", env: dict[str, str] | None = None,
               cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsstream_cli", *args], capture_output=True, text=True,
                          input=stdin, timeout=180, cwd=cwd, env={**os.environ, **(env or {})})


def lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON with the keys every line has (fails on the first that is not)."""
    out = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line on stderr: {line!r}\n{stderr}")
        assert isinstance(record, dict) and record.keys() >= KEYS, line
        assert record["level"] in {"debug", "info", "warning", "error", "critical"}, line
        out.append(record)
    assert out, "nothing on stderr"
    return out


def the(records: list[dict[str, Any]], event: str) -> dict[str, Any]:
    found = [r for r in records if r["event"] == event]
    assert len(found) == 1, (event, records)
    return found[0]


def test_extract_of_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no body", "body": ""}\n{"title": "cut off\n')
    res = newsstream("extract", "--format", "jsonl", str(bad))
    assert res.returncode == 1 and res.stdout == "", res.stderr
    records = lines(res.stderr)
    rejected = [r for r in records if r["event"] == "article_rejected"]
    assert [(r["origin"], r["code"]) for r in rejected] == [(f"{bad}:1", "empty_body"), (f"{bad}:2", "bad_json")]
    assert rejected[0]["message"] == f"{bad}:1: rejected (empty_body): empty body"  # the readable line, whole
    assert all(r["level"] == "warning" for r in rejected)
    failed = the(records, "command_failed")  # why it exits 1, in so many words
    assert failed["level"] == "error" and failed["exit_code"] == 1 and "rejected" in failed["message"]


@pytest.mark.kafka
def test_produce_of_a_missing_file(kafka_settings: Settings, tmp_path: Path) -> None:
    res = newsstream("produce", "--bootstrap-servers", kafka_settings.bootstrap_servers, "--topic",
                     kafka_settings.topic, "--metrics-port", "0", str(tmp_path / "no-such.jsonl"),
                     env={"NEWSSTREAM_STATE_DIR": str(tmp_path / "state")})
    assert res.returncode == 1, res.stderr
    assert res.stdout.startswith("sent 0, duplicates 0, rejected 1 (not_found: 1)")  # stdout: the summary
    records = lines(res.stderr)
    assert the(records, "metrics_serving")["url"].startswith("http://127.0.0.1:")
    assert the(records, "article_rejected")["code"] == "not_found"
    failed = the(records, "command_failed")
    assert failed["level"] == "error" and failed["exit_code"] == 1 and failed["missing"] == 1
    assert failed["message"] == "newsstream: error: nothing was sent: 1 input(s) not found or unreadable"


def test_query_events_of_a_bad_database_url() -> None:
    res = newsstream("query", "events", "--database-url", "no-such-scheme://x")
    assert res.returncode == 2, res.stderr  # a setting to fix
    (record,) = lines(res.stderr)
    assert record["event"] == "configuration_error" and record["level"] == "error" and record["exit_code"] == 2
    assert record["message"].startswith("newsstream: configuration error: ") and "no-such-scheme" in record["error"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    assert newsstream("db", "upgrade", "--database-url", url).returncode == 0
    return url


def test_db_downgrade_without_yes(sqlite_url: str) -> None:
    before = newsstream("db", "current", "--database-url", sqlite_url).stdout
    res = newsstream("db", "downgrade", "--database-url", sqlite_url)  # stdin: empty, so no answer
    assert res.returncode == 1, res.stderr
    records = lines(res.stderr)
    question = the(records, "downgrade_question")
    assert question["message"].endswith("Continue? [y/N]") and question["to"] == "-1"
    failed = the(records, "command_failed")
    assert failed["level"] == "error" and "not confirmed: nothing changed" in failed["message"]
    assert newsstream("db", "current", "--database-url", sqlite_url).stdout == before
    yes = newsstream("db", "downgrade", "--database-url", sqlite_url, stdin="y\n")  # a line of stdin answers
    assert yes.returncode == 0 and "downgraded to" in yes.stdout, yes.stderr


def test_a_usage_error_is_a_json_line_too() -> None:
    res = newsstream("produce", "--follow", "-")
    assert res.returncode == 2
    (record,) = lines(res.stderr)
    assert (record["event"], record["level"], record["exit_code"]) == ("usage_error", "error", 2)
    assert record["message"] == "Error: --follow watches files and directories, not stdin"
    assert record["usage"].startswith("Usage: newsstream produce [OPTIONS]")
    (unknown,) = lines(newsstream("no-such-command").stderr)
    assert unknown["event"] == "usage_error" and "no-such-command" in unknown["message"]


def test_console_keeps_the_readable_lines(sqlite_url: str) -> None:
    res = newsstream("db", "downgrade", "--database-url", sqlite_url, env={"NEWSSTREAM_LOG_FORMAT": "console"})
    assert res.returncode == 1
    assert res.stderr.endswith("Continue? [y/N]: \nerror: downgrade not confirmed: nothing changed "
                               "(--yes downgrades without asking)\n"), res.stderr
    res = newsstream("produce", "--log-format", "console", "--follow", "-")
    assert res.returncode == 2 and res.stderr.splitlines()[0].startswith("Usage: newsstream produce")
    assert res.stderr.splitlines()[-1] == "Error: --follow watches files and directories, not stdin"


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run newsstream with its stderr on a pseudo-terminal: the exit code and what the terminal showed."""
    parent, child = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "newsstream_cli", *args], stdout=subprocess.PIPE,
                              stderr=child, timeout=120, cwd=ROOT, env={**os.environ, **(env or {})})
        os.close(child)
        child = -1
        seen = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the other end is closed: everything was read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if child >= 0:
            os.close(child)
        os.close(parent)
    return proc.returncode, seen.decode().replace("\r\n", "\n")


def test_a_terminal_gets_the_readable_line() -> None:
    code, text = on_a_terminal("query", "events", "--database-url", "no-such-scheme://x")
    assert code == 2
    assert text.startswith("newsstream: configuration error: invalid database URL") and "{" not in text, text
    assert len(text.splitlines()) == 1


def test_json_lines_on_a_terminal_when_asked() -> None:
    code, text = on_a_terminal("query", "events", "--database-url", "no-such-scheme://x",
                               env={"NEWSSTREAM_LOG_FORMAT": "json"})
    assert code == 2
    assert lines(text)[0]["event"] == "configuration_error"


LOG_BURST = """
import sys
from pipeline.logs import configure, get_logger, say
configure("json", "INFO")
log = get_logger(writer=sys.argv[1])
for i in range(int(sys.argv[2])):
    log.info("batch committed", n=i, padding="x" * 200)
    say(f"line {i}", event="bench_progress", writer=sys.argv[1])
"""


def test_processes_sharing_one_stderr_never_glue_their_lines(tmp_path: Path) -> None:
    """Workers of one `consume --workers N` share their stderr. With PYTHONUNBUFFERED (our Dockerfile sets
    it) each write is a system call: a line written apart from its newline lets another process's line
    land in between ({...}{...} on one line), which a log shipper cannot read. Four processes, one file."""
    path = tmp_path / "shared.log"
    n = 1500
    with path.open("wb") as shared:
        procs = [subprocess.Popen([sys.executable, "-c", LOG_BURST, str(w), str(n)], stderr=shared, cwd=ROOT,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"}) for w in range(4)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    text = path.read_text(encoding="utf-8")
    glued = [line for line in text.splitlines() if not _is_json_object(line)]
    assert not glued, f"{len(glued)} lines are not one JSON object each, e.g. {glued[0][:300]!r}"
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert events.count("bench_progress") == events.count("batch committed") == 4 * n


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False
