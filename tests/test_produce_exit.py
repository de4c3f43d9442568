"""Issue 18.4: `produce` of a path that is not there fails; the rejects file keeps the rejected input
itself, so it can be fixed and sent again (real broker)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.test_produce import articles_on, produce

pytestmark = pytest.mark.kafka

BODY = "The council met on Monday in Vilnius and agreed a new budget for the city's schools."


def test_a_path_that_does_not_exist_exits_non_zero(kafka_settings: Settings, tmp_path: Path) -> None:
    res = produce(kafka_settings, str(tmp_path / "no-such-file.jsonl"), state_dir=tmp_path / "state")
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout.strip() == "sent 0, duplicates 0, rejected 1 (not_found: 1), delivery failures 0"
    assert "nothing was sent" in res.stderr and "not found" in res.stderr


def test_a_missing_path_beside_a_good_one_still_exits_zero(kafka_settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"title": "ok", "body": BODY}) + "\n")
    res = produce(kafka_settings, str(good), str(tmp_path / "typo.jsonl"), state_dir=tmp_path / "state")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("sent 1, duplicates 0, rejected 1 (not_found: 1)")


def test_nothing_new_to_send_is_not_an_error(kafka_settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"title": "ok", "body": BODY}) + "\n")
    assert produce(kafka_settings, str(good), state_dir=tmp_path / "state").returncode == 0
    again = produce(kafka_settings, str(good), state_dir=tmp_path / "state")
    assert again.returncode == 0 and again.stdout.startswith("sent 0, duplicates 1")


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def test_the_rejects_file_keeps_the_input_so_it_can_be_fixed_and_resent(kafka_settings: Settings,
                                                                        tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"title": "good", "body": BODY}),
        json.dumps({"title": "Минск: без текста", "body": "   ", "url": "https://example.org/minsk"},
                   ensure_ascii=False),
        '{"title": "broken", "body": "cut off',
        json.dumps({"title": "bad date", "body": BODY + " Again.", "published": "31/31/2024"}),
    ]) + "\n")
    plain = tmp_path / "no-header.txt"
    plain.write_text("A paragraph without the date header.\n\nAnother one.\n")
    rejects = tmp_path / "rejects.jsonl"
    res = produce(kafka_settings, str(src), str(plain), "--rejects", str(rejects), state_dir=tmp_path / "state")
    assert res.returncode == 0, res.stderr
    written = {r["origin"].rsplit("/", 1)[-1]: r for r in map(json.loads, rejects.read_text("utf-8").splitlines())}
    assert set(written) == {"in.jsonl:2", "in.jsonl:3", "in.jsonl:4", "no-header.txt:1"}
    assert json.loads(written["in.jsonl:2"]["input"]) == {
        "title": "Минск: без текста", "body": "   ", "url": "https://example.org/minsk"}
    assert written["in.jsonl:2"]["code"] == "empty_body" and written["in.jsonl:2"]["reason"]
    assert written["in.jsonl:3"]["input"] == '{"title": "broken", "body": "cut off'
    assert written["no-header.txt:1"]["input"] == plain.read_text()
    # fix them and send them again: the records are back in the rejects file, one JSON line each
    fixed = tmp_path / "fixed.jsonl"
    lines = []
    for where in ("in.jsonl:2", "in.jsonl:4"):
        record = json.loads(written[where]["input"])
        record["body"], record["published"] = BODY + f" Fixed {where}.", "2024-03-31"
        lines.append(json.dumps(record, ensure_ascii=False))
    fixed.write_text("\n".join(lines) + "\n")
    again = produce(kafka_settings, str(fixed), state_dir=tmp_path / "state")
    assert again.returncode == 0 and again.stdout.startswith("sent 2, duplicates 0, rejected 0"), again.stderr
    titles = {a.title for a in articles_on(kafka_settings, 3)}
    assert titles == {"good", "Минск: без текста", "bad date"}


def test_a_record_with_a_lone_surrogate_is_written_as_json_escapes(kafka_settings: Settings, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"title": "bad \\ud800 text", "body": "Text.", "published": "not a date"}\n')
    rejects = tmp_path / "rejects.jsonl"
    res = produce(kafka_settings, str(src), "--rejects", str(rejects), state_dir=tmp_path / "state")
    assert "rejected 1" in res.stdout, res.stderr
    (record,) = map(json.loads, rejects.read_text("utf-8").splitlines())
    assert json.loads(record["input"])["title"] == "bad \ud800 text"


def test_a_bulk_produce_nobody_scraped_waits_for_a_first_scrape_that_reads_its_final_count(
        kafka_settings: Settings, tmp_path: Path) -> None:
    """Issue 18.8: by default (NEWSSTREAM_PRODUCER_SCRAPE_WAIT unset: 5 s) a short bulk load is still
    there for Prometheus to read when it ends before the first scrape."""
    import os
    import sys
    import urllib.request

    from tests.test_produce import ROOT

    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps({"title": f"t{i}", "body": f"{BODY} Item {i}."}) + "\n" for i in range(3)))
    env = {k: v for k, v in os.environ.items() if k != "NEWSSTREAM_PRODUCER_SCRAPE_WAIT"}
    env["NEWSSTREAM_STATE_DIR"] = str(tmp_path / "state")
    proc = subprocess.Popen([sys.executable, "-m", "newsstream_cli", "produce", "--bootstrap-servers",
                             kafka_settings.bootstrap_servers, "--topic", kafka_settings.topic, "--metrics-port", "0",
                             str(good)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        url = next(json.loads(line)["url"] for line in proc.stderr if '"metrics_serving"' in line)
        summary = proc.stdout.readline()  # printed before the wait
        assert summary.startswith("sent 3,"), summary
        assert proc.poll() is None, "exited without waiting for a scrape"
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert 'newsstream_articles_produced_total{source="file"} 3.0' in page and "newsstream_stopping 1.0" in page
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
