#!/usr/bin/env python3
"""Event precision/recall on a hand-annotated sample of CAMEO corpus sentences.

usage: python benchmarks/eval_events.py [--gold tests/data/events_gold.jsonl] [--shared ../shared/data]
       [--show]

The gold file (tests/data/events_gold.jsonl) holds only our annotations and a reference to each
sentence ("cameo/corpus/cameo_100.csv#No. 16"); the sentences are read from ../shared/data, which
must be beside the checkout. Each gold event is (actor, action, target): the action is a verb lemma
(with its particle: "give up"), actor and target are head words or names, "a|b" lists accepted
alternatives, null means none.

Compared systems, on the same sentences:
  * bare    - spaCy subject-verb-object triples: every VERB with an nsubj, its dobj or None;
  * ours    - extract_doc with keep_all_events=True (all clause and nominal events);
  * ours/named - extract_doc's default output (events whose actor or target is a named entity).

Matching, for every system alike: same sentence; the first word of the action lemma equal; actor
and target each match when a gold alternative is one of the words of the predicted span (or of its
canonical entity name), or both are None. Predictions whose lemma is a reporting verb or on the
lexicon's ignore list (say, be, have, seem...) are not scored: the gold does not annotate them.
Precision = matched predictions / predictions; recall = matched gold events / gold events.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[\w'-]+", (text or "").lower().replace("’", "'")))


def arg_ok(gold: str | None, pred: tuple[str | None, str | None] | None) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    have = words(pred[0]) | words(pred[1])
    return any(words(alt) <= have for alt in gold.split("|"))


def load_sentences(shared: Path) -> dict[str, str]:
    path = shared / "cameo" / "corpus" / "cameo_100.csv"
    if not path.exists():
        sys.exit(f"{path} is absent: ../shared/data must be beside this checkout (or pass --shared)")
    out = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            m = re.match(r"\s*(No\. \d+) sentences (.*)", row[0], re.S)
            if m:
                out[f"cameo/corpus/cameo_100.csv#{m.group(1)}"] = m.group(2).strip()
    return out


def bare_triples(doc) -> list[tuple[str, tuple | None, tuple | None]]:
    out = []
    for tok in doc:
        if tok.pos_ != "VERB":
            continue
        subj = next((c for c in tok.children if c.dep_ == "nsubj"), None)
        if subj is None:
            continue
        obj = next((c for c in tok.children if c.dep_ == "dobj"), None)
        out.append((tok.lemma_.lower(), (subj.text, None), (obj.text, None) if obj is not None else None))
    return out


def ours(ex) -> list[tuple[str, tuple | None, tuple | None]]:
    def arg(span):
        return None if span is None else (span.text, span.entity)

    return [(ev.trigger.lemma, arg(ev.actor), arg(ev.target)) for ev in ex.events]


def score(system: dict[str, list], gold: dict[str, list], skip: frozenset[str], show: str | None = None):
    tp_pred = n_pred = tp_gold = n_gold = 0
    for ref, gevs in gold.items():
        preds = [p for p in system.get(ref, []) if p[0].split()[0] not in skip]
        n_pred += len(preds)
        n_gold += len(gevs)

        def match(p, g):
            return (p[0].split()[0] == g["action"].split()[0] and arg_ok(g["actor"], p[1])
                    and arg_ok(g["target"], p[2]))

        tp_pred += sum(any(match(p, g) for g in gevs) for p in preds)
        hit = [any(match(p, g) for p in preds) for g in gevs]
        tp_gold += sum(hit)
        if show:
            for g, h in zip(gevs, hit, strict=False):
                if not h:
                    print(f"  [{show}] miss {ref}: {g}  preds={preds}")
    p = tp_pred / n_pred if n_pred else 0.0
    r = tp_gold / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, n_pred, n_gold


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "tests" / "data" / "events_gold.jsonl")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--show", action="store_true", help="print the gold events each system misses")
    args = ap.parse_args()
    sentences = load_sentences(args.shared)
    gold = {}
    for line in args.gold.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["ref"]] = row["events"]
    missing = [r for r in gold if r not in sentences]
    if missing:
        sys.exit(f"gold refers to sentences not in the corpus: {missing[:5]}")

    from pipeline.article import Article
    from pipeline.extract import extract_doc, load_nlp
    from pipeline.extract.lexicon import default_lexicon

    lex = default_lexicon()
    skip = lex.reporting | lex.ignore
    nlp = load_nlp()
    refs = list(gold)
    bare, mine_all, mine_named = {}, {}, {}
    for ref, doc in zip(refs, nlp.pipe(sentences[r] for r in refs), strict=False):
        article = Article(id=ref, body=sentences[ref])
        bare[ref] = bare_triples(doc)
        mine_all[ref] = ours(extract_doc(doc, article, keep_all_events=True))
        mine_named[ref] = ours(extract_doc(doc, article))
    print(f"{len(gold)} sentences, {sum(len(v) for v in gold.values())} gold events")
    print(f"{'system':28s} {'P':>6s} {'R':>6s} {'F1':>6s} {'pred':>5s}")
    for name, system in (("bare spaCy SVO triples", bare), ("ours (keep_all_events)", mine_all),
                         ("ours (default: named only)", mine_named)):
        p, r, f, n_pred, _ = score(system, gold, skip, show=name if args.show else None)
        print(f"{name:28s} {p:6.3f} {r:6.3f} {f:6.3f} {n_pred:5d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
