#!/usr/bin/env python3
"""Entity labels of the most-mentioned entities, through extraction and the store (issue 13.4).

usage: python benchmarks/eval_labels.py [--articles PATH] [--n 500] [--top 50] [--json FILE]

The first ``--n`` articles of ../shared/data/bbc/bbc.jsonl (file order) are extracted with the
default model and settings and written with ``write_batch`` to a throwaway SQLite database (every
migration applied); the ``--top`` entities by mentions (``query entities``) are printed with their
stored label and, where the hand-checked list below knows the entity, whether it is right. The data
is read where it lies, never copied. Runs on any checkout that has ``write_batch`` and
``top_entities`` (the "before" figures of docs/quality.md came from a worktree of the older commit).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT.parent / "shared" / "data" / "bbc" / "bbc.jsonl"
sys.path.insert(0, str(ROOT))

# The right label of each entity in the top 50 of the first 500 articles, before or after issue 13.4,
# checked by hand (BBC news 2004-5). GPE: countries, cities, states; LOC: continents; ORG: companies,
# institutions, agencies; NORP: nationalities. A wrong span with the right kind keeps its label
# ("Indonesia Aceh" is a place). Entities not listed print "?".
GOLD = {
    "US": "GPE", "United States": "GPE", "UK": "GPE", "United Kingdom": "GPE", "Yukos": "ORG", "China": "GPE",
    "India": "GPE", "Europe": "LOC", "Russian": "NORP", "Russia": "GPE", "European": "NORP", "London": "GPE",
    "EU": "ORG", "Japan": "GPE", "General Motors": "ORG", "German": "NORP", "LSE": "ORG", "Deutsche Boerse": "ORG",
    "Gazprom": "ORG", "Germany": "GPE", "Yugansk": "ORG", "Bank of England": "ORG", "Malcolm Glazer": "PERSON",
    "Reuters": "ORG", "Rosneft": "ORG", "Worldcom": "ORG", "IMF": "ORG", "Japanese": "NORP", "New York": "GPE",
    "Indian": "NORP", "Asia": "LOC", "Chinese": "NORP", "Fiat": "ORG", "MCI": "ORG", "Boeing": "ORG",
    "George W Bush": "PERSON", "Mr Ebbers": "PERSON", "Ebbers": "PERSON", "France": "GPE", "Iraq": "GPE",
    "Mikhail Khodorkovsky": "PERSON", "Turkey": "GPE", "French": "NORP", "Scott Sullivan": "PERSON",
    "World Trade Organisation": "ORG", "Indonesia Aceh": "GPE", "Italian": "NORP", "Marsh & McLennan": "ORG",
    "BMW": "ORG", "Airbus": "ORG", "Australian": "NORP", "SEC": "ORG", "Securities and Exchange Commission": "ORG",
    "Euronext": "ORG", "Manchester United": "ORG", "South Korea": "GPE", "Sri Lanka": "GPE",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--articles", type=Path, default=ARTICLES)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--top", type=int, default=50)
    p.add_argument("--json", type=Path, help="write the rows as JSON here too")
    return p.parse_args(argv)


def read(path: Path, n: int) -> list[Any]:
    from pipeline.article import Article
    from pipeline.parsing import read_articles

    return list(islice((a for a in read_articles([str(path)]) if isinstance(a, Article)), n))


def run(path: Path, n: int, top: int) -> list[dict[str, object]]:
    import logging

    logging.disable(logging.INFO)  # the story decisions, one line per article
    from pipeline.extract import EXTRACTOR_VERSION, extract_articles, load_nlp
    from pipeline.store.db import make_engine, upgrade
    from pipeline.store.query import top_entities
    from pipeline.store.writer import write_batch

    arts = read(path, n)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/labels.db"
        upgrade(url)
        engine = make_engine(url)
        t0 = time.perf_counter()
        done = list(extract_articles(load_nlp(), arts))
        t1 = time.perf_counter()
        for i in range(0, len(done), 50):  # batches as a worker writes them
            write_batch(engine, [(a, x, None) for a, x in done[i:i + 50]], extractor_version=EXTRACTOR_VERSION)
        print(f"{len(arts)} articles: extraction {t1 - t0:.0f} s, store {time.perf_counter() - t1:.0f} s",
              file=sys.stderr)
        rows = top_entities(engine, top=top)
        engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.articles.exists():
        print(f"{args.articles} is absent: ../shared/data must be beside this checkout (or pass --articles)",
              file=sys.stderr)
        return 2
    rows = run(args.articles, args.n, args.top)
    right = known = 0
    print(f"{'#':>3}  {'name':32} {'label':8} {'gold':8} {'mentions':>8} {'articles':>8}")
    for i, r in enumerate(rows, 1):
        gold = GOLD.get(str(r["name"]))
        r["gold"] = gold
        known += gold is not None
        right += gold == r["label"]
        mark = "" if gold is None else ("ok" if gold == r["label"] else "WRONG")
        print(f"{i:>3}  {str(r['name'])[:32]:32} {r['label']!s:8} {gold or '?':8} {r['mentions']:>8} "
              f"{r['articles']:>8}  {mark}")
    print(f"right: {right} of {len(rows)} ({known} checked by hand)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
