#!/usr/bin/env python3
"""Event-taxonomy measurements (issue 13): BBC type coverage, a sample to check by hand, CAMEO agreement.

usage: python benchmarks/eval_taxonomy.py bbc    [--keep-all-events] [--json]
       python benchmarks/eval_taxonomy.py sample [--n 100] [--seed 13] [--out PATH] [--keep-all-events] [--json]
       python benchmarks/eval_taxonomy.py cameo  [--files GLOB] [--json]
       every subcommand also takes --shared ../shared/data and --model en_core_web_sm

Events are read as `newsstream extract --format jsonl` writes them (``Extraction.to_contract``), by
.get(): ``family`` is None where the code has none, type STATEMENT simply counts 0 where it does not exist.

bbc: the first 40 articles of each section of bbc/bbc.jsonl in file order (200): events, STATEMENTs, the
  share of the other events that are OTHER (bar: <= 30%), families, types, and events triggered by a
  reporting verb of the lexicon (bar: none, except STATEMENTs, which are counted apart).
sample: n typed events (not OTHER, not STATEMENT) of those articles, random.Random(seed), as a Markdown
  table with an empty verdict column.
cameo: the coded sentences of cameo/annotations/training_round_*/ (per round summary_v2.csv, else
  summary.csv; summary_v1/summary_wrong are superseded). A coder's vote is the CAMEO root of their first
  action in the latest round they annotated the sentence; the sentence's root is the majority of the votes
  (ties: smallest root); sentences without a vote are skipped and counted. The root is mapped to PLOVER
  (CAMEO_PLOVER) and a sentence is a hit when a mapped type is among its events' types (any modality),
  with keep_all_events=True and with the default. (--files 'training_round_*/summary_v2.csv' reads rounds 1, 3
  and 4 only, which code the same 100 sentences.)
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECTIONS = ("business", "entertainment", "politics", "sport", "tech")
STATEMENT, OTHER = "STATEMENT", "OTHER"

# CAMEO cue category (root) -> (name, PLOVER types accepted). From openeventdata/PLOVER, CAMEO2PLOVER-2021.txt
# (its "NN: TYPE" root lines) at commit e834df5b3a302f99af1f23cda08fa34b383ca598 (unchanged at HEAD 5e0c24f),
# checked against the table "PLOVER equivalents to CAMEO cue categories" in PLOVER_MANUAL.tex at 5e0c24f.
# 01 and 02 are "dropped" in PLOVER: 01 is mapped to our STATEMENT (reported apart), 02 to nothing. 08 YIELD
# is split (081-083 CONCEDE, 084-087 RETREAT): the data has roots only, so either counts. 20: the manual's
# table says "FIGHT", which is not a PLOVER type; CAMEO2PLOVER-2021.txt says ASSAULT.
CAMEO_PLOVER: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("make public statement", (STATEMENT,)), 2: ("appeal", ()),
    3: ("express intent to cooperate", ("AGREE",)), 4: ("consult", ("CONSULT",)),
    5: ("engage in diplomatic cooperation", ("SUPPORT",)), 6: ("engage in material cooperation", ("COOPERATE",)),
    7: ("provide aid", ("AID",)), 8: ("yield", ("CONCEDE", "RETREAT")), 9: ("investigate", ("ACCUSE",)),
    10: ("demand", ("REQUEST",)), 11: ("disapprove", ("ACCUSE",)), 12: ("reject", ("REJECT",)),
    13: ("threaten", ("THREATEN",)), 14: ("protest", ("PROTEST",)), 15: ("exhibit force posture", ("MOBILIZE",)),
    16: ("reduce relations", ("SANCTION",)), 17: ("coerce", ("COERCE",)), 18: ("assault", ("ASSAULT",)),
    19: ("fight", ("ASSAULT",)), 20: ("use unconventional mass violence", ("ASSAULT",)),
}


# -- pure helpers ------------------------------------------------------------------------------------------
def cameo_root(code: str | None) -> int | None:
    """The CAMEO root of a coder's cell: "4-18 Assualt" -> 18 (class-root name); blank or unreadable -> None."""
    m = re.match(r"\s*\d+\s*-\s*(\d{1,2})\b", code or "")
    root = int(m.group(1)) if m else None
    return root if root in CAMEO_PLOVER else None


def majority(votes: Iterable[int]) -> int | None:
    """The most frequent vote, the smallest on a tie; None without votes."""
    counts = Counter(votes)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def coder_votes(rows: Iterable[tuple[int, dict[str, str]]]) -> dict[int, list[int]]:
    """{sentence no: roots} from (round, csv row) pairs; per coder, the latest round they annotated wins."""
    latest: dict[int, dict[str, int | None]] = {}
    for _, row in sorted(rows, key=lambda r: r[0]):
        per = latest.setdefault(sentence_no(row), {})
        for key, value in row.items():
            m = re.fullmatch(r"anncomplete_(\d+)", key or "")
            if not m:
                continue
            root = cameo_root(row.get(f"Action1_CAMEO_{m.group(1)}"))
            if root is not None or (value or "").strip().lower() == "true":
                per[m.group(1)] = root  # annotated: a code, or "no action" (None)
    return {no: [r for r in per.values() if r is not None] for no, per in latest.items()}


def sentence_no(row: dict[str, str]) -> int:
    m = re.match(r"\s*No\.\s*(\d+)", row.get("No") or row.get("plain_text") or "")
    if not m:
        raise ValueError(f"no sentence number in row {row.get('ids')!r}")
    return int(m.group(1))


def md_cell(text: str | None, limit: int = 0) -> str:
    """One Markdown table cell: whitespace collapsed, pipes escaped, trimmed to ``limit`` characters."""
    s = " ".join((text or "").split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s.replace("|", "\\|")


def is_reporting(ev: dict, reporting: frozenset[str]) -> bool:
    lemma = ((ev.get("trigger") or {}).get("lemma") or "").lower()
    return lemma in reporting or lemma.split(" ")[0] in reporting


def bbc_summary(events: list[dict], reporting: frozenset[str]) -> dict:
    """Counts over event dicts (the contract's): statements, OTHER share of the rest, families, types."""
    statements = [e for e in events if e.get("type") == STATEMENT]
    rest = [e for e in events if e.get("type") != STATEMENT]
    other = [e for e in rest if e.get("type") == OTHER]
    rep_events = [e for e in rest if is_reporting(e, reporting)]
    return {
        "events": len(events), "statements": len(statements), "non_statement": len(rest),
        "other": len(other), "other_share": len(other) / len(rest) if rest else 0.0,
        "by_family": Counter(str(e.get("family")) for e in events).most_common(),
        "by_type": Counter(e.get("type") for e in events).most_common(30),
        "reporting_events": len(rep_events),
        "reporting_by_lemma": Counter(e["trigger"]["lemma"] for e in rep_events).most_common(15),
        "reporting_by_type": Counter(e.get("type") for e in rep_events).most_common(),
        "statements_on_reporting_verb": sum(is_reporting(e, reporting) for e in statements),
        "other_top_lemmas": Counter((e.get("trigger") or {}).get("lemma") for e in other).most_common(200),
    }


def sample_rows(events: list[tuple[str, dict]], n: int, seed: int) -> list[dict]:
    """n random typed events (not OTHER, not STATEMENT) of (article id, event) pairs, as table rows."""
    pool = [(aid, e) for aid, e in events if e.get("type") not in (OTHER, STATEMENT)]
    picked = random.Random(seed).sample(pool, min(n, len(pool)))

    return [{"#": i, "article": aid, "family": e.get("family"), "type": e.get("type"),
             **{k: (e.get(k) or {}).get("text") or "" for k in ("trigger", "actor", "target")},
             "sentence": e.get("sentence") or "", "verdict": ""} for i, (aid, e) in enumerate(picked, 1)]


def markdown(rows: list[dict]) -> str:
    cols = ["#", "article", "family", "type", "trigger", "actor", "target", "sentence", "verdict"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(md_cell(str(r[c] if r[c] is not None else ""), 250 if c == "sentence" else 0)
                                       for c in cols) + " |")
    return "\n".join(lines)


def cameo_scores(items: list[tuple[int, set[str], set[str]]]) -> dict:
    """items: (root, our types with keep_all_events, our types by default) -> hits overall and per root."""
    per: dict[int, dict[str, int]] = {}
    for root, types_all, types_default in items:
        want = set(CAMEO_PLOVER[root][1])
        d = per.setdefault(root, {"n": 0, "hit_all": 0, "hit_default": 0, "none_all": 0, "none_default": 0})
        d["n"] += 1
        d["hit_all"] += bool(want & types_all)
        d["hit_default"] += bool(want & types_default)
        d["none_all"] += not types_all
        d["none_default"] += not types_default
    plover = [d for r, d in per.items() if r > 2]
    total = {k: sum(d[k] for d in plover) for k in ("n", "hit_all", "hit_default")}
    return {"per_root": dict(sorted(per.items())), "plover": total,
            "statement": per.get(1, {}), "unmapped": per.get(2, {}).get("n", 0),
            "none_all": sum(d["none_all"] for d in per.values()),
            "none_default": sum(d["none_default"] for d in per.values())}


def share(a: int, b: int) -> str:
    return f"{a}/{b} = {100 * a / b:.1f}%" if b else f"{a}/0"


# -- data and extraction -----------------------------------------------------------------------------------
def need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"{path} is absent: ../shared/data must be beside this checkout (or pass --shared)")
    return path


def bbc_articles(shared: Path, per_section: int = 40, skip: int = 0) -> list:
    """``per_section`` articles of each section in file order, after the first ``skip`` of each."""
    from pipeline.article import Article

    taken: Counter[str] = Counter()
    out = []
    with need(shared / "bbc" / "bbc.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["category"] in SECTIONS and taken[row["category"]] < per_section + skip:
                taken[row["category"]] += 1
                if taken[row["category"]] <= skip:
                    continue
                out.append(Article(id=str(row["id"]), title=row.get("title"), body=row["text"],
                                   published="2005-01-01", section=row["category"]))
    return out


def extract(articles: list, model: str, keep_all: bool) -> list[tuple[str, list[dict]]]:
    """(article id, its events as contract dicts), through extract_articles like `newsstream extract`."""
    from pipeline.extract import extract_articles, load_nlp

    nlp = load_nlp(model)
    return [(a.id, ex.to_contract({"id": a.id})["events"])
            for a, ex in extract_articles(nlp, articles, keep_all_events=keep_all)]


def cameo_rows(shared: Path, pattern: str | None) -> list[tuple[int, dict[str, str]]]:
    base = need(shared / "cameo" / "annotations")
    if pattern:
        files = sorted(base.glob(pattern))
    else:
        files = [next((p for p in (d / "summary_v2.csv", d / "summary.csv") if p.exists()), None)
                 for d in sorted(base.glob("training_round_*"))]
    out = []
    for f in filter(None, files):
        rnd = int(re.search(r"round_(\d+)", str(f)).group(1))
        with f.open(encoding="utf-8-sig", newline="") as fh:
            out += [(rnd, row) for row in csv.DictReader(fh)]
    if not out:
        sys.exit(f"no annotation files under {base} match {pattern or 'training_round_*/summary*.csv'}")
    return out


# -- subcommands -------------------------------------------------------------------------------------------
def run_bbc(args) -> tuple[dict, str]:
    from pipeline.extract.lexicon import default_lexicon

    per_article = extract(bbc_articles(args.shared), args.model, args.keep_all_events)
    d = {"articles": len(per_article), "keep_all_events": args.keep_all_events,
         **bbc_summary([e for _, evs in per_article for e in evs], default_lexicon().reporting)}
    lines = [f"bbc: {d['articles']} articles (40 per section), keep_all_events={d['keep_all_events']}",
             f"events {d['events']}, statements (STATEMENT) {d['statements']}, non-statement {d['non_statement']}",
             f"OTHER among non-statement: {share(d['other'], d['non_statement'])}  (bar: <= 30%)",
             f"reporting-verb triggers, not STATEMENT: {d['reporting_events']}  (bar: 0); "
             f"STATEMENTs on a reporting verb: {d['statements_on_reporting_verb']}",
             "  by lemma: " + ", ".join(f"{k} {v}" for k, v in d["reporting_by_lemma"]),
             "  by type: " + ", ".join(f"{k} {v}" for k, v in d["reporting_by_type"]),
             "by family: " + ", ".join(f"{k} {v}" for k, v in d["by_family"]),
             "by type (top 30):"] + [f"  {k:12s} {v:6d}" for k, v in d["by_type"]]
    lines += ["top 20 trigger lemmas of OTHER events: " + ", ".join(f"{k} {v}" for k, v in d["other_top_lemmas"][:20])]
    return d, "\n".join(lines)


def run_sample(args) -> tuple[dict, str]:
    per_article = extract(bbc_articles(args.shared, skip=args.skip), args.model, args.keep_all_events)
    rows = sample_rows([(aid, e) for aid, evs in per_article for e in evs], args.n, args.seed)
    which = f" after the first {args.skip} of each section" if args.skip else ""
    head = f"<!-- {len(rows)} typed events of {len(per_article)} BBC articles{which}, seed {args.seed} -->\n"
    return {"rows": rows}, head + markdown(rows)


def plover_of(event: dict) -> str | None:
    """The PLOVER type a political coder would give our event: its ``plover`` key (ARREST -> COERCE),
    STATEMENT for a statement, OTHER for a type with none; before issue 13 (no such key) its type."""
    if "plover" not in event:
        return event.get("type")
    if event.get("type") == STATEMENT:
        return STATEMENT
    return event.get("plover") or OTHER


def run_cameo(args) -> tuple[dict, str]:
    from pipeline.article import Article

    rows = cameo_rows(args.shared, args.files)
    text = {sentence_no(r): r["sentences"].strip() for _, r in rows}
    roots = {no: majority(v) for no, v in coder_votes(rows).items()}
    coded = sorted(no for no, r in roots.items() if r is not None)
    arts = [Article(id=f"cameo#{no}", body=text[no]) for no in coded]
    types = {k: {aid: {plover_of(e) for e in evs} for aid, evs in extract(arts, args.model, k)}
             for k in (True, False)}
    items = [(roots[no], types[True][f"cameo#{no}"], types[False][f"cameo#{no}"]) for no in coded]
    d = {"sentences": len(text), "skipped_uncoded": len(text) - len(coded), **cameo_scores(items)}
    misses = Counter((roots[no], "+".join(sorted(t)) or "-") for no, (_, t, _) in zip(coded, items, strict=True)
                     if not set(CAMEO_PLOVER[roots[no]][1]) & t)
    d["top_misses"] = [[r, t, n] for (r, t), n in misses.most_common(12)]
    return d, cameo_text(d)


def cameo_text(d: dict) -> str:
    p, s = d["plover"], d["statement"]
    lines = [f"cameo: {d['sentences']} sentences, {d['sentences'] - d['skipped_uncoded']} with a coder majority "
             f"({d['skipped_uncoded']} skipped: no coder coded an action)",
             f"PLOVER-mapped roots (03-20): hit keep_all {share(p['hit_all'], p['n'])}, "
             f"default {share(p['hit_default'], p['n'])}",
             f"root 01 -> STATEMENT: keep_all {share(s.get('hit_all', 0), s.get('n', 0))}, "
             f"default {share(s.get('hit_default', 0), s.get('n', 0))}",
             f"root 02 (appeal, dropped in PLOVER, not scored): {d['unmapped']}",
             f"no event at all: keep_all {d['none_all']}, default {d['none_default']} (of all coded sentences)",
             f"{'root':>4s} {'name':34s} {'PLOVER':16s} {'n':>3s} {'hit keep_all':>12s} {'hit default':>12s}"]
    for r, x in d["per_root"].items():
        name, want = CAMEO_PLOVER[r]
        cells = [f"{x[k]:3d} {100 * x[k] / x['n']:5.1f}%" for k in ("hit_all", "hit_default")]
        lines.append(f"{r:4d} {name:34s} {'/'.join(want) or '-':16s} {x['n']:3d} {cells[0]:>12s} {cells[1]:>12s}")
    lines.append("most common misses (root: our types with keep_all): "
                 + ", ".join(f"{r}: {t} x{n}" for r, t, n in d["top_misses"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    common.add_argument("--model", default="en_core_web_sm")
    common.add_argument("--json", action="store_true", help="machine output (JSON) instead of the report")
    bbc, sample, cameo = (sub.add_parser(name, parents=[common]) for name in ("bbc", "sample", "cameo"))
    for p in (bbc, sample):
        p.add_argument("--keep-all-events", action="store_true", help="also events with no named actor or target")
    sample.add_argument("--n", type=int, default=100)
    sample.add_argument("--seed", type=int, default=13)
    sample.add_argument("--out", type=Path, help="write the table here (default: stdout)")
    sample.add_argument("--skip", type=int, default=0,
                        help="leave out the first SKIP articles of each section (a sample held out from the 200)")
    cameo.add_argument("--files", help="a glob under cameo/annotations (default: each round's latest summary)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data, report = {"bbc": run_bbc, "sample": run_sample, "cameo": run_cameo}[args.cmd](args)
    seconds = time.perf_counter() - t0
    out = json.dumps({**data, "seconds": round(seconds, 1)}, ensure_ascii=False, indent=1) if args.json else report
    if getattr(args, "out", None):
        args.out.write_text(out + "\n", encoding="utf-8")
    else:
        print(out)
    print(f"[{args.cmd}: {seconds:.1f} s wall]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
