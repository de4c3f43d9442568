"""Geo on the shared data (skipped when ../shared is absent): the seed, and a small Reuters sample."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent


def test_the_seed_article_happens_in_belarus() -> None:
    seed = shared_path("seed", "lukashenko-wagner-2023-07-03.txt")
    res = subprocess.run([sys.executable, "-m", "newsstream_cli", "extract", "--format", "jsonl", str(seed)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.splitlines()[0])
    geo = {e["name"]: e["geo"] for e in out["entities"] if e["geo"]}
    minsk = geo["Minsk"]
    assert (minsk["country"], round(minsk["lat"], 2), round(minsk["lon"], 2)) == ("BY", 53.9, 27.57)
    assert geo["Moscow"]["country"] == geo["Rostov-on-Don"]["country"] == "RU"
    assert (geo["Belarus"]["kind"], geo["Belarus"]["country"]) == ("country", "BY")
    assert (geo["Russia"]["kind"], geo["Russia"]["country"]) == ("country", "RU")
    assert out["article"]["country"] == "BY"
    assert all(ev["country"] in ("BY", "RU") for ev in out["events"])


def test_reuters_wires_are_placed_in_their_tagged_country() -> None:
    path = shared_path("reuters", "reuters21578.jsonl")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import eval_places

    from pipeline.extract import load_nlp
    from pipeline.geo import default_gazetteer

    gaz = default_gazetteer()
    wires = eval_places.load_wires(path, gaz, "test")
    sample = random.Random(3).sample(wires, 60)
    s = eval_places.score(eval_places.run(load_nlp(), gaz, sample))
    assert s["ours"] >= 0.85 and s["ours"] > s["naive"]
