"""`newsstream bench` keeps working: a short run on a few articles writes every section.

Never asserts speed (a benchmark is not a test): only that each figure is there and positive
(the producer's table by codec and the restart stage included).
The bench starts its own Kafka broker and PostgreSQL server (the path `make bench` takes), so this
test covers their start-up too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES
from tests.fixtures_pg import find_pg_bin

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def _positive(value: object, what: str) -> None:
    assert isinstance(value, (int, float)) and value > 0, f"{what}: {value!r}"


def test_bench_runs_every_stage_on_a_few_articles(tmp_path: Path) -> None:
    missing = [what for what, ok in (("PostgreSQL server binaries (apt-get install postgresql)", find_pg_bin()),
                                     ("java (apt-get install openjdk-17-jre-headless)", shutil.which("java")))
               if not ok]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the bench test must run in CI: missing {', '.join(missing)}")
        pytest.skip(f"missing {', '.join(missing)}")
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, "-m", "newsstream_cli", "bench", "--corpus", str(SAMPLES), "--limit", "20",
                          "--workers", "2", "--producer-articles", "200", "--latency-seconds", "3",
                          "--json", str(out), "--workdir", str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-4000:]
    data = json.loads(out.read_text())
    n = data["corpus"]["articles"]
    assert n > 0

    bare = data["bare"]
    for key in ("one_process", "n_process"):
        assert bare[key]["articles"] == n
        _positive(bare[key]["articles_per_s"], f"bare {key}")
    assert bare["n_process"]["processes"] == 2
    _positive(data["extract"]["articles_per_s"], "extract")
    _positive(data["producer"]["articles_per_s"], "producer")

    codecs = data["producer_codecs"]  # every codec, each on its own topics, every message acknowledged
    assert set(codecs) == {"lz4", "zstd", "gzip", "none"}
    for codec, row in codecs.items():
        assert row["articles"] == 200, codec
        assert len(row["rounds"]) == 2, codec
        _positive(row["articles_per_s"], f"producer {codec}")
        _positive(row["bytes_on_broker"], f"producer {codec} bytes on the broker")  # the bench's own broker
    assert codecs["none"]["bytes_on_broker"] > codecs["gzip"]["bytes_on_broker"]  # gzip does compress
    assert data["producer"]["compression"] in codecs
    assert data["producer"]["articles_per_s"] == codecs[data["producer"]["compression"]]["articles_per_s"]
    choice = data["producer_codec_choice"]
    assert choice["fastest"] in codecs and choice["best_choice"] in codecs and choice["default"] in codecs
    assert "fastest codec:" in res.stdout

    e2e = data["e2e"]
    assert set(e2e) == {"sqlite-1w", "sqlite-2w", "postgresql-1w", "postgresql-2w"}
    for label, run in e2e.items():
        assert run["articles"] == n, label
        _positive(run["articles_per_s"], label)
        assert len(run["per_worker"]) == run["workers"]
        for w in run["per_worker"]:
            _positive(w["peak_rss_mb"], f"{label} worker {w['worker']} peak RSS")
            assert set(w["stage_seconds"]) == {"decode", "nlp", "rules", "db_write", "commit"}
            assert 0 < w["story_seconds"] <= w["stage_seconds"]["db_write"], label  # issue 15: inside db_write
        assert 0 < run["story_share"] < 1, label
        ref = run["reference"]  # bare nlp.pipe again, right before this run, in the form it is compared with
        assert ref["kind"] == ("1 process" if run["workers"] == 1 else f"n_process={run['workers']}"), label
        assert run["x_paired_reference"] == pytest.approx(run["articles_per_s"] / ref["articles_per_s"]), label
        _positive(sum(w["stage_seconds"]["nlp"] for w in run["per_worker"]), f"{label} nlp seconds")

    lat = data["latency"]
    _positive(lat["offered_rate_per_s"], "offered rate")
    assert lat["observations"] == lat["articles"] > 0
    for q in ("p50_s", "p95_s", "p99_s"):
        _positive(lat[q], q)

    restart = data["restart"]  # cold start, SIGKILL, restart with the same group and instance id
    for key in ("cold", "restart"):
        _positive(restart[key]["first_commit_s"], f"restart {key} first commit")
        _positive(restart[key]["assigned_s"], f"restart {key} assigned")
        assert restart[key]["first_commit_s"] > restart[key]["assigned_s"], key
    assert restart["cold"]["exit_code"] == -9  # SIGKILLed
    _positive(restart["ratio"], "restart / cold")
    assert "| 7. one worker, time from process start" in res.stdout

    ratios = data["ratios"]
    for key in ("extract", "producer", "e2e_sqlite-1w", "e2e_postgresql-2w"):
        _positive(ratios[key]["x_bare_1proc"], f"ratio {key}")
    assert {t["target"] for t in data["targets"]} >= {
        "producer articles/s", "worker peak RSS (MB)", "p99 end-to-end latency at half load (s)",
        "e2e sqlite 1 worker / bare 1 process", "e2e postgresql 2 workers / bare n_process=2",
        "restart after SIGKILL / cold start, time to first commit"}
    assert any(t["target"].startswith("story assignment / worker time") for t in data["targets"])
    assert "(stories, in db_write)" in res.stdout
    by_name = {t["target"]: t["value"] for t in data["targets"]}  # the targets read the paired ratios
    assert by_name["e2e sqlite 1 worker / bare 1 process"] == e2e["sqlite-1w"]["x_paired_reference"]
    assert by_name["e2e postgresql 2 workers / bare n_process=2"] == e2e["postgresql-2w"]["x_paired_reference"]
    assert "measured right before it" in res.stdout
    assert "| 1. bare `nlp.pipe`" in res.stdout  # the table
