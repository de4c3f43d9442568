#!/usr/bin/env python3
"""``article.country`` against Reuters-21578's hand-assigned places (wires tagged with exactly one).

usage: python benchmarks/eval_places.py [--data PATH] [--half test|dev] [--per-country 25]
       [--min-country 8] [--seed 14] [--cutoff 15000] [--natural N] [--json FILE]

Each wire is read the way it reached readers: its dateline in front of the body
("TOKYO, Feb 27 - ..."). Wires are split in two halves by a hash of their ``newid``: rules and
weights were chosen on ``dev`` (odd hash), and figures are reported on ``test`` (even). The sample
takes up to --per-country wires of each country with at least --min-country single-place wires in
the half, drawn with a fixed --seed (a stratified sample: the country mix of Reuters is 60% USA);
--natural N also scores N wires drawn with the corpus's own mix.

Printed: accuracy per country, overall (micro) and the mean over countries, for ours and the naive
baseline: the most mentioned GPE/LOC name of the wire, looked up without context (the candidate with
the highest prior: countries first, then population).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reuters" / "reuters21578.jsonl"
sys.path.insert(0, str(ROOT))


def half_of(newid: Any) -> str:
    return "test" if hashlib.sha256(str(newid).encode()).digest()[0] % 2 == 0 else "dev"


def tag_country(gaz: Any, tag: str) -> str | None:
    """Reuters' place tag ("west-germany", "usa") -> ISO code, through the gazetteer's countries."""
    for c in gaz.lookup(tag.replace("-", " ")):
        if c.place.kind == "country":
            return str(c.place.country)
    return None


def load_wires(path: Path, gaz: Any, half: str) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if len(r.get("places") or []) != 1 or not (r.get("body") or "").strip() or half_of(r["newid"]) != half:
                continue
            iso = tag_country(gaz, r["places"][0])
            if iso:
                text = f"{(r.get('dateline') or '').strip()} {r['body'].strip()}".strip()
                out.append({"id": str(r["newid"]), "title": r.get("title"), "body": text, "gold": iso})
    return out


def sample(wires: list[dict[str, Any]], per_country: int, min_country: int, seed: int) -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in wires:
        by[w["gold"]].append(w)
    rng = random.Random(seed)
    out = []
    for iso in sorted(by):
        if len(by[iso]) >= min_country:
            out += rng.sample(by[iso], min(per_country, len(by[iso])))
    return out


def naive(gaz: Any, ex: Any) -> str | None:
    """The most mentioned GPE/LOC name, resolved without context."""
    from pipeline.geo.resolve import candidates, prior

    places = [e for e in ex.entities if e.label in ("GPE", "LOC")]
    if not places:
        return None
    top = max(places, key=lambda e: len(e.mentions))
    from pipeline.geo import PlaceName

    cands = candidates(gaz, PlaceName(top.name, top.label, tuple(m.text for m in top.mentions)))
    best = max(cands, key=lambda c: (prior(c), c.place.population), default=None)
    return best.place.country if best else None


def score(rows: list[tuple[str, str | None, str | None]]) -> dict[str, Any]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for gold, ours, base in rows:
        per[gold][0] += 1
        per[gold][1] += ours == gold
        per[gold][2] += base == gold
    n = len(rows)
    return {"n": n, "countries": len(per),
            "ours": sum(p[1] for p in per.values()) / n, "naive": sum(p[2] for p in per.values()) / n,
            "ours_macro": sum(p[1] / p[0] for p in per.values()) / len(per),
            "naive_macro": sum(p[2] / p[0] for p in per.values()) / len(per),
            "unresolved": sum(1 for _, o, _ in rows if o is None) / n,
            "per_country": {k: {"n": p[0], "ours": p[1] / p[0], "naive": p[2] / p[0]} for k, p in sorted(per.items())}}


def run(nlp: Any, gaz: Any, wires: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    from pipeline.article import Article
    from pipeline.extract import extract_articles

    arts = [Article(id=w["id"], title=w["title"], body=w["body"], published="1987-03-01") for w in wires]
    gold = {w["id"]: w["gold"] for w in wires}
    return [(gold[a.id], ex.country, naive(gaz, ex)) for a, ex in extract_articles(nlp, arts, gazetteer=gaz)]


def show(title: str, s: dict[str, Any]) -> None:
    print(f"\n{title}: {s['n']} wires, {s['countries']} countries")
    print(f"{'country':8s} {'n':>4s} {'ours':>6s} {'naive':>6s}")
    for k, p in s["per_country"].items():
        print(f"{k:8s} {p['n']:4d} {p['ours']:6.1%} {p['naive']:6.1%}")
    print(f"overall (micro): ours {s['ours']:.1%}, naive {s['naive']:.1%}; mean over countries: ours "
          f"{s['ours_macro']:.1%}, naive {s['naive_macro']:.1%}; ours unresolved {s['unresolved']:.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--half", choices=["test", "dev"], default="test")
    ap.add_argument("--per-country", type=int, default=25)
    ap.add_argument("--min-country", type=int, default=8)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--cutoff", type=int, default=None, help="gazetteer city cut-off (default: the pipeline's)")
    ap.add_argument("--natural", type=int, default=0, help="also score N wires with the corpus's country mix")
    ap.add_argument("--model", default="en_core_web_sm")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} is absent (../shared/data must be beside this checkout, or pass --data)")
        return 0

    from pipeline.extract import load_nlp
    from pipeline.geo import gazetteer as gz

    t0 = time.perf_counter()
    gaz = gz.default_gazetteer(args.cutoff or gz.DEFAULT_CUTOFF)
    print(f"gazetteer: cutoff {gaz.stats.cutoff}, {gaz.stats.places} places, {gaz.stats.names} names, "
          f"loaded in {time.perf_counter() - t0:.2f} s, +{gaz.stats.rss_mb or 0:.0f} MB resident")
    nlp = load_nlp(args.model)
    wires = load_wires(args.data, gaz, args.half)
    counts = Counter(w["gold"] for w in wires)
    print(f"{args.half} half: {len(wires)} single-place wires, {len(counts)} countries")
    out: dict[str, Any] = {"half": args.half, "seed": args.seed, "cutoff": gaz.stats.cutoff}
    strat = sample(wires, args.per_country, args.min_country, args.seed)
    out["stratified"] = score(run(nlp, gaz, strat))
    show(f"stratified sample (up to {args.per_country} per country with >= {args.min_country} wires)",
         out["stratified"])
    if args.natural:
        nat = random.Random(args.seed).sample(wires, min(args.natural, len(wires)))
        out["natural"] = score(run(nlp, gaz, nat))
        s = out["natural"]
        print(f"\nnatural mix: {s['n']} wires, {s['countries']} countries: ours {s['ours']:.1%}, "
              f"naive {s['naive']:.1%}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
