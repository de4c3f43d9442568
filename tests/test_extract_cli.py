"""`newsstream extract --format jsonl`: the contract evaluation tools read, offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES, SHARED, shared_path

ROOT = Path(__file__).resolve().parent.parent
NS = [sys.executable, "-m", "newsstream_cli"]
ARTICLE_KEYS = {"id", "title", "published", "section", "authors", "source", "url", "language", "dateline"}
EVENT_KEYS = {"type", "trigger", "actor", "target", "location", "date", "date_text", "negated", "modality",
              "sentence"}


def extract(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*NS, "extract", "--format", "jsonl", *args], capture_output=True, text=True,
                          input=stdin, timeout=180, cwd=ROOT)


GEO_KEYS = {"geonameid", "name", "kind", "country", "admin1", "lat", "lon"}


def test_contract_shape_and_offsets_point_into_the_printed_body() -> None:
    files = sorted(SAMPLES.glob("*.txt"))
    res = extract("--include-body", *map(str, files))
    assert res.returncode == 0, res.stderr
    outs = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(outs) == len(files)
    labels = set()
    for out in outs:
        assert set(out) == {"article", "entities", "events"}
        assert set(out["article"]) == ARTICLE_KEYS | {"body", "country"}
        body = out["article"]["body"]
        assert out["article"]["published"] and out["article"]["authors"]
        assert "©" not in body  # captions and their credits are not body text
        for ent in out["entities"]:
            assert set(ent) == {"name", "label", "mentions", "geo"} and ent["mentions"]
            assert ent["geo"] is None or set(ent["geo"]) == GEO_KEYS
            labels.add(ent["label"])
            for m in ent["mentions"]:
                assert m["field"] == "body"
                assert body[m["start"]:m["end"]] == m["text"]
        for ev in out["events"]:
            assert set(ev) >= EVENT_KEYS
            assert body[ev["trigger"]["start"]:ev["trigger"]["end"]] == ev["trigger"]["text"]
            assert ev["date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", ev["date"])
    assert {"PERSON", "ORG", "GPE"} <= labels
    assert sum(len(o["events"]) for o in outs) > 0


def test_json_lines_on_stdin_keep_their_ids_and_bad_lines_are_named() -> None:
    lines = [json.dumps({"id": "d0", "text": "Angela Merkel met Emmanuel Macron in Paris."}),
             "{oops",
             json.dumps({"id": "d2", "text": "Toyota opened a plant in Texas."})]
    res = extract("-", stdin="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    outs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["article"]["id"] for o in outs] == ["d0", "d2"]
    assert "<stdin>:2: rejected (bad_json)" in res.stderr
    names = {e["name"] for e in outs[0]["entities"]}
    assert {"Angela Merkel", "Emmanuel Macron", "Paris"} <= names


def test_only_bad_input_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "empty.jsonl"
    bad.write_text(json.dumps({"id": "x", "body": "  "}) + "\n")
    res = extract(str(bad))
    assert res.returncode == 1
    assert f"{bad}:1: rejected (empty_body)" in res.stderr


def test_score_seed_reads_the_contract() -> None:
    gold = shared_path("seed", "lukashenko-wagner-2023-07-03.gold.json")
    seed = gold.with_name("lukashenko-wagner-2023-07-03.txt")
    res = subprocess.run([sys.executable, str(SHARED / "tools" / "score_seed.py"), str(gold), "--",
                          *NS, "extract", "--format", "jsonl", str(seed)],
                         capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^seed_score=\d+/\d+$", res.stdout, re.M)
    assert "PASS published == 2023-07-03" in res.stdout
    assert "PASS authors == ['Erkan Pehlivan']" in res.stdout
