"""Story grouping against the news-please answer key (``newsCluster.EventId``), through the real pipeline.

usage: python benchmarks/eval_stories.py [--articles PATH] [--database-url URL] [--workers 2] [--json FILE]
       [--setting NAME=VALUE ...]

A local broker (the same code as ``newsstream broker start``, on free ports), the articles produced
in publication order by ``newsstream produce``, consumed by ``newsstream consume --workers N`` with
the default settings, then the grouping (``articles.story_id``) exported as ``{"id", "story"}``
lines and scored by ../shared/tools/score_stories.py: on every event, on the even EventIds (the
half the defaults were chosen on) and on the odd ones (kept out). The baseline, one-pass TF-IDF
cosine over title and lead joining the most similar earlier article at 0.3, is scored the same
way. The share of worker time spent in story assignment is read from the workers' logs
(``stories assigned`` seconds / ``batch committed`` seconds).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARTICLES = SHARED / "data" / "newsplease" / "articles.jsonl"
SCORER = SHARED / "tools" / "score_stories.py"
sys.path.insert(0, str(ROOT))


def score(articles: Path, assignment: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(SCORER), str(articles), str(assignment)], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"B-cubed P=([\d.]+) R=([\d.]+) F1=([\d.]+); pairwise P=([\d.]+) R=([\d.]+)", out)
    assert m, out
    bp, br, bf, pp, pr = map(float, m.groups())
    return {"bcubed_p": bp, "bcubed_r": br, "bcubed_f1": bf, "pairwise_p": pp, "pairwise_r": pr,
            "pairwise_f1": round(2 * pp * pr / (pp + pr), 3) if pp + pr else 0.0}


def halves(records: list[dict[str, Any]], workdir: Path) -> dict[str, Path]:
    """The answer key whole, and with only the even / odd EventIds kept (the others unscored)."""
    paths = {}
    for name, keep in (("all", lambda e: True), ("even", lambda e: e % 2 == 0), ("odd", lambda e: e % 2 == 1)):
        p = workdir / f"gold_{name}.jsonl"
        with p.open("w") as f:
            for r in records:
                ev = (r.get("newsCluster") or {}).get("EventId")
                r2 = dict(r) if ev is not None and keep(ev) else {k: v for k, v in r.items() if k != "newsCluster"}
                f.write(json.dumps(r2) + "\n")
        paths[name] = p
    return paths


def baseline(records: list[dict[str, Any]], threshold: float = 0.3) -> dict[str, int]:
    """One pass, TF-IDF cosine over title + lead (description): join the most similar earlier article."""
    tok = [re.findall(r"\w+", f"{r.get('title') or ''} {r.get('description') or ''}".lower()) for r in records]
    df = Counter(w for t in tok for w in set(t))
    n = len(records)
    vecs = []
    for t in tok:
        tf = Counter(t)
        v = {w: c * math.log(n / df[w]) for w, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({w: x / norm for w, x in v.items()})
    story: dict[str, int] = {}
    for i, r in enumerate(records):
        best, sim = None, 0.0
        for j in range(i):
            s = sum(x * vecs[j].get(w, 0.0) for w, x in vecs[i].items())
            if s > sim:
                best, sim = j, s
        story[r["id"]] = story[records[best]["id"]] if best is not None and sim >= threshold else i
    return story


def worker_shares(log: str) -> dict[str, float]:
    stories = batches = 0.0
    for line in log.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        msg = rec.get("message") or rec.get("event") or rec.get("msg")
        if msg == "stories assigned":
            stories += float(rec.get("seconds", 0))
        elif msg == "batch committed":
            batches += float(rec.get("seconds", 0))
    return {"story_seconds": round(stories, 3), "worker_batch_seconds": round(batches, 3),
            "story_share": round(stories / batches, 4) if batches else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=Path, default=ARTICLES)
    ap.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a NEWSSTREAM_ setting for the workers, to explore (story_window_days=30); the reported "
                         "figures use none: the workers otherwise get the defaults, whatever this shell sets")
    opts = ap.parse_args()
    if any("=" not in setting for setting in opts.setting):
        ap.error("--setting takes NAME=VALUE, e.g. story_window_days=30")
    if not opts.articles.exists() or not SCORER.exists():
        print(f"skipped: {opts.articles} or {SCORER} is absent (../shared is not beside this checkout)")
        return 0
    from pipeline.bus.broker import LocalBroker, free_port
    from pipeline.bus.clients import ensure_topic
    from pipeline.config import load_settings
    from pipeline.store.db import make_engine, upgrade

    records = [json.loads(line) for line in opts.articles.open() if line.strip()]
    records.sort(key=lambda r: (r.get("date_publish") or "\uffff", r["id"]))  # publication order
    work = Path(tempfile.mkdtemp(prefix="eval-stories-"))
    ordered = work / "articles.jsonl"
    ordered.write_text("".join(json.dumps(r) + "\n" for r in records))
    url = opts.database_url or f"sqlite:///{work / 'stories.db'}"
    upgrade(url)
    broker = LocalBroker(work / "kafka", port=free_port(), controller_port=free_port(),
                         jars_dir=ROOT / ".kafka" / "jars")
    broker.start(timeout=120)
    try:
        topic, group = f"eval.{uuid.uuid4().hex[:8]}", f"g.eval.{uuid.uuid4().hex[:8]}"
        ensure_topic(load_settings(bootstrap_servers=broker.bootstrap), topic, partitions=6)
        common = ["--bootstrap-servers", broker.bootstrap, "--topic", topic]
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("NEWSSTREAM_")}
        env.update(NEWSSTREAM_LOG_FORMAT="json", NEWSSTREAM_STATE_DIR=str(work / "state"))
        env.update({f"NEWSSTREAM_{name.strip().upper()}": value for name, value in
                    (setting.split("=", 1) for setting in opts.setting)})
        subprocess.run([sys.executable, "-m", "newsstream_cli", "produce", str(ordered), *common],
                       check=True, cwd=ROOT, env=env, capture_output=True)
        run = subprocess.run([sys.executable, "-m", "newsstream_cli", "consume", *common, "--group", group,
                              "--database-url", url, "--no-migrate", "--workers", str(opts.workers),
                              "--until-idle", "20", "--batch-size", "8", "--metrics-port", "-1"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        log = run.stdout + run.stderr
        (work / "consume.log").write_text(log)
        if run.returncode != 0:
            print(log[-3000:])
            return 1
    finally:
        broker.stop()
    engine = make_engine(url)
    with engine.connect() as conn:
        import sqlalchemy as sa

        rows = conn.execute(sa.text("select id, story_id from articles")).all()
        merges = conn.execute(sa.text("select count(*) from story_merges")).scalar_one()
    engine.dispose()
    assignment = work / "assignment.jsonl"
    assignment.write_text("".join(json.dumps({"id": i, "story": s}) + "\n" for i, s in rows))
    base = work / "baseline.jsonl"
    base.write_text("".join(json.dumps({"id": i, "story": s}) + "\n" for i, s in baseline(records).items()))
    gold = halves(records, work)
    result: dict[str, Any] = {"articles": len(rows), "stories": len({s for _i, s in rows}), "merges": merges,
                              "workers": opts.workers, "database": url.split(":", 1)[0], "workdir": str(work)}
    for name, path in gold.items():
        result[name] = score(path, assignment)
        result[f"baseline_{name}"] = score(path, base)
    result["cost"] = worker_shares(log)
    print(json.dumps(result, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
