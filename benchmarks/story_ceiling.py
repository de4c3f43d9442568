"""The best B-cubed F1 any grouping can reach on the news-please answer key with a candidate window.

usage: python benchmarks/story_ceiling.py [--articles PATH] [--days 7,14,30]

Story assignment only ever compares articles published within ``story_window_days`` of each other
(issue 15: candidates are the stories of the last N days). The best such grouping links every
two articles of one gold event published at most N days apart, and chains those links (single
link, as ours does): its groups are the connected components of "same event and at most N days
apart". This scores that grouping with ../shared/tools/score_stories.py, on the even and the odd
EventIds as eval_stories.py does. Nothing here looks at what newsstream extracts or groups.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_stories import ARTICLES, halves, score


def _day(record: dict[str, Any]) -> date | None:
    text = record.get("date_publish")
    return date.fromisoformat(text[:10]) if text else None


def best_grouping(records: list[dict[str, Any]], days: int) -> dict[str, str]:
    """Article id -> group: the components of "same EventId, published at most ``days`` apart"."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_event: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        find(r["id"])
        ev = (r.get("newsCluster") or {}).get("EventId")
        if ev is not None:
            by_event[ev].append(r)
    for group in by_event.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                da, db = _day(a), _day(b)
                if (da is None and db is None) or (da and db and abs((da - db).days) <= days):
                    parent[find(a["id"])] = find(b["id"])
    return {i: find(i) for i in parent}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=Path, default=ARTICLES)
    ap.add_argument("--days", default="7,14,30", help="windows to try, in days")
    opts = ap.parse_args()
    if not opts.articles.exists():
        print(f"{opts.articles} is absent: ../shared/data is not beside this checkout", file=sys.stderr)
        return 2
    records = [json.loads(line) for line in opts.articles.open() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gold = halves(records, work)
        print("window  half  B-cubed P / R / F1      pairwise F1")
        for days in (int(d) for d in opts.days.split(",")):
            assignment = work / f"best_{days}.jsonl"
            assignment.write_text("".join(json.dumps({"id": i, "story": g}) + "\n"
                                          for i, g in best_grouping(records, days).items()))
            for half in ("even", "odd"):
                s = score(gold[half], assignment)
                print(f"{days:>4} d  {half:<4}  {s['bcubed_p']:.3f} / {s['bcubed_r']:.3f} / {s['bcubed_f1']:.3f}"
                      f"   {s['pairwise_f1']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
