#!/usr/bin/env python3
"""Speed of every ``newsstream query`` on PostgreSQL with 100,000 generated articles.

usage: python benchmarks/bench_query.py [--articles 100000] [--runs 7] [--database-url URL] [--explain]

Without --database-url it starts a throwaway PostgreSQL server (``devtools.pgserver``, as the
tests do: system binaries, a temp dir, removed at the end). The database is migrated
to 0002, then filled with COPY: N articles (~1.2 kB bodies, two years of dates), a pool of
20,000 entities with a skewed (Zipf-like) popularity, ~30 entities per article with one or two
mentions each, and 5 events per article. It is then upgraded to head one revision at a time,
timed (0003 builds indexes, 0004 fills the count tables from the mentions), and VACUUM ANALYZEd.
A database that already holds N articles is reused.

Each query runs once to warm up, then --runs times through the same functions the CLI calls
(``pipeline.store.query``); the table gives the median and the max in milliseconds. The bar is
200 ms per query. ``--explain`` prints EXPLAIN ANALYZE of each query's SQL instead.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABELS = ["PERSON"] * 5 + ["ORG"] * 3 + ["GPE"] * 2 + ["NORP", "LOC", "FAC", "EVENT"]
TYPES = ["CONSULT", "AGREE", "REJECT", "SUPPORT", "REQUEST", "ACCUSE", "COOPERATE", "AID", "ASSAULT",
         "THREATEN", "PROTEST", "SANCTION", "CONCEDE", "RETREAT", "OTHER", "OTHER", "OTHER"]
MODALITIES = ["asserted"] * 6 + ["reported"] * 3 + ["hypothetical"]
SECTIONS = ["politics", "business", "world", "economy", "sport", "technology", "law", "science"]
SOURCES = [f"wire-{i:02d}" for i in range(40)]
SYLLABLES = ["ka", "lo", "mi", "ra", "sen", "tor", "vel", "an", "dre", "ber", "gis", "hol", "ju", "nor",
             "pe", "qui", "sta", "ul", "win", "zo", "mar", "lin", "ko", "fa"]
START = date(2023, 1, 1)
DAYS = 730


def word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n))


def english_words() -> list[str]:
    """The words of the sample articles: filler text with the trigrams of real English."""
    import re

    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.*")))
    return sorted({w for w in re.findall(r"[A-Za-z]+", text) if len(w) > 1})


def make_entities(rng: random.Random, n: int) -> list[tuple[int, str, str]]:
    """(id, name, label); id 1 is "Alexander Lukashenko" (the most mentioned), names unique."""
    out, seen = [(1, "Alexander Lukashenko", "PERSON")], {"Alexander Lukashenko"}
    while len(out) < n:
        label = rng.choice(LABELS)
        name = (f"{word(rng, 2).title()} {word(rng, 3).title()}" if label == "PERSON"
                else f"{word(rng, 3).title()}{rng.choice(['', ' Group', ' Bank', ' Union', ''])}")
        if name not in seen:
            seen.add(name)
            out.append((len(out) + 1, name, label))
    return out


def load(url: str, n_articles: int, n_entities: int, seed: int = 6) -> None:
    """Fill the (migrated, empty) database at ``url`` with COPY."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conninfo: dict[str, Any] = {"host": u.host, "port": u.port or 5432, "user": u.username, "dbname": u.database}
    if u.password:
        conninfo["password"] = u.password
    rng = random.Random(seed)
    ents = make_entities(rng, n_entities)
    cum = _accumulate([1 / (r + 30) ** 1.1 for r in range(n_entities)])  # rank 0: ~1 article in 6
    vocab = english_words()
    t0 = time.perf_counter()
    with psycopg.connect(**conninfo) as conn, conn.cursor() as cur:
        with cur.copy("COPY entities (id, name, label) FROM STDIN") as cp:
            for e in ents:
                cp.write_row(e)
        aliases: dict[tuple[str, str], int] = {}
        for eid, name, label in ents:  # the full name, and a person's last name ("lukashenko")
            aliases.setdefault((name.lower(), label), eid)
            if label == "PERSON":
                aliases.setdefault((name.split()[-1].lower(), label), eid)
        with cur.copy("COPY entity_aliases (alias, label, entity_id) FROM STDIN") as cp:
            for (alias, label), eid in aliases.items():
                cp.write_row((alias, label, eid))
        cur.execute("SELECT setval(pg_get_serial_sequence('entities', 'id'), %s)", (n_entities,))
        _copy_articles(cur, rng, n_articles, ents, cum, vocab)
        conn.commit()
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"loaded {n_articles:,} articles in {time.perf_counter() - t0:.0f} s (COPY + VACUUM ANALYZE)",
          file=sys.stderr)


ART_COLS = ("id, title, body, published, published_date, section, authors, source, url, language, "
            "subheadings, captions, extractor_version, content_hash")


def _accumulate(values: list[float]) -> list[float]:
    out, total = [], 0.0
    for v in values:
        total += v
        out.append(total)
    return out


def _copy_articles(cur: Any, rng: random.Random, n: int, ents: list[tuple[int, str, str]], cum: list[float],
                   vocab: list[str]) -> None:
    """Articles, then their mentions and events, with COPY (rows built in Python, streamed)."""
    mention_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    with cur.copy(f"COPY articles ({ART_COLS}) FROM STDIN") as cp:
        for i in range(n):
            aid = f"bench-{i:07d}"
            day = START + timedelta(days=rng.randrange(DAYS))
            chosen = list(dict.fromkeys(rng.choices(range(len(ents)), cum_weights=cum, k=34)))[:30]
            parts, pos, spans = [], 0, []
            for k in chosen:
                _eid, name, _label = ents[k]
                for rep in range(1 + (rng.random() < 0.35)):
                    filler = " ".join(rng.choices(vocab, k=rng.randint(3, 8)))
                    sentence = f"{name} {filler}." if rep == 0 else f"Later {name} {filler}."
                    start = pos + sentence.index(name)
                    spans.append((k, start, start + len(name), sentence))
                    parts.append(sentence)
                    pos += len(sentence) + 1
            body = " ".join(parts)
            title = f"{ents[chosen[0]][1]} {' '.join(rng.choices(vocab, k=5))}"
            cp.write_row((aid, title, body, day.isoformat(), day, rng.choice(SECTIONS), "[]",
                          rng.choice(SOURCES), f"https://bench.example/{aid}", "en", "[]", "[]",
                          "bench", f"{i:064d}"))
            for k, s, e, sentence in spans:
                mention_rows.append((aid, ents[k][0], "body", s, e, ents[k][1], sentence))
            for seq in range(5):
                actor = ents[rng.choice(chosen)][0] if rng.random() < 0.8 else None
                target = ents[rng.choice(chosen)][0] if rng.random() < 0.6 else None
                etype = rng.choice(TYPES)
                event_rows.append((aid, seq, etype, "met", "meet", 0, 3, actor, target,
                                   day if rng.random() < 0.4 else None, rng.random() >= 0.95,
                                   rng.choice(MODALITIES), spans[0][3]))
    with cur.copy('COPY mentions (article_id, entity_id, field, start, "end", text, sentence) FROM STDIN') as cp:
        for row in mention_rows:
            cp.write_row(row)
    with cur.copy("COPY events (article_id, seq, type, trigger_text, trigger_lemma, trigger_start, trigger_end, "
                  "actor_id, target_id, date, negated, modality, sentence) FROM STDIN") as cp:
        for row in event_rows:
            cp.write_row(row)


def pick_names(engine: Any) -> dict[str, str]:
    """Names to query: the most mentioned entity and one of median popularity, a source, a word."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        counts = conn.execute(sa.text(
            "SELECT e.name, count(*) AS n FROM mentions m JOIN entities e ON e.id = m.entity_id "
            "GROUP BY e.name ORDER BY n DESC, e.name")).all()
        n_articles = conn.scalar(sa.text("SELECT count(*) FROM articles"))
        top, top_n = counts[0]
        mid, mid_n = counts[len(counts) // 2]
    print(f"entities queried: {top!r} ({top_n:,} mentions), {mid!r} ({mid_n:,} mentions); "
          f"{n_articles:,} articles", file=sys.stderr)
    return {"top": top, "mid": mid}


def cases(names: dict[str, str]) -> list[tuple[str, Callable[[Any], Any]]]:
    from pipeline.store import query as q

    last30 = q.Period(START + timedelta(days=DAYS - 30), START + timedelta(days=DAYS - 1))
    year = q.Period(START, START + timedelta(days=364))
    both = q.Period(START, START + timedelta(days=DAYS - 1))  # every article, as an explicit range
    year_and_half = q.Period(START + timedelta(days=182), START + timedelta(days=DAYS - 1))
    top, mid = names["top"], names["mid"]
    return [
        ("articles --entity TOP", lambda e: q.search_articles(e, entity=top)),
        ("articles --entity MID", lambda e: q.search_articles(e, entity=mid)),
        ("articles --entity lukashenko --since/--until 30d", lambda e: q.search_articles(
            e, entity="lukashenko", period=last30)),
        ("articles --source wire-07 --section politics", lambda e: q.search_articles(
            e, source="wire-07", section="politics")),
        ("articles --since/--until 30 days", lambda e: q.search_articles(e, period=last30)),
        ("articles --text <common word>", lambda e: q.search_articles(e, text="minister")),
        ("articles --text <rare word>", lambda e: q.search_articles(e, text="Brazilian striker")),
        ("articles --text <MID's name>", lambda e: q.search_articles(e, text=mid)),
        ("articles --text <absent string>", lambda e: q.search_articles(e, text="no such words at all")),
        ("articles --text 50% --entity MID", lambda e: q.search_articles(e, text="50%", entity=mid)),
        ("entities --top 20 --since/--until 30 days", lambda e: q.top_entities(e, period=last30)),
        ("entities --label PERSON --since/--until 30 days", lambda e: q.top_entities(
            e, period=last30, label="PERSON")),
        ("entities --top 20 (all 2 years)", lambda e: q.top_entities(e)),
        ("entities --top 20 --since/--until 1 year", lambda e: q.top_entities(e, period=year)),
        ("entities --top 20 --since/--until 1.5 years", lambda e: q.top_entities(e, period=year_and_half)),
        ("entities --top 20 --since/--until all 2 years", lambda e: q.top_entities(e, period=both)),
        ("events --actor TOP", lambda e: q.search_events(e, actor=top)),
        ("events --target MID", lambda e: q.search_events(e, target=mid)),
        ("events --type PROTEST --modality reported", lambda e: q.search_events(
            e, type_="PROTEST", modality="reported")),
        ("events --actor TOP --type ACCUSE --since/--until 1y", lambda e: q.search_events(
            e, actor=top, type_="ACCUSE", period=year)),
        ("events --since/--until 30 days", lambda e: q.search_events(e, period=last30)),
        ("entity TOP (profile)", lambda e: q.entity_profile(e, top)),
        ("entity MID (profile)", lambda e: q.entity_profile(e, mid)),
        ("entity TOP --since/--until 30 days", lambda e: q.entity_profile(e, top, period=last30)),
        ("cooccurrence TOP", lambda e: q.cooccurrence(e, top)),
        ("cooccurrence MID", lambda e: q.cooccurrence(e, mid)),
        ("timeline TOP", lambda e: q.timeline(e, top)),
        ("timeline MID", lambda e: q.timeline(e, mid)),
        ("timeline TOP --since/--until 1 year", lambda e: q.timeline(e, top, period=year)),
    ]


def run(engine: Any, names: dict[str, str], runs: int) -> list[dict[str, Any]]:
    out = []
    for name, fn in cases(names):
        fn(engine)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = fn(engine)
            times.append(1000 * (time.perf_counter() - t0))
        n = len(rows) if isinstance(rows, list) else sum(len(v) for v in rows.values() if isinstance(v, list))
        out.append({"query": name, "median_ms": round(statistics.median(times), 1),
                    "max_ms": round(max(times), 1), "rows": n})
    return out


def explain(engine: Any, names: dict[str, str]) -> None:
    """EXPLAIN ANALYZE of every statement each case runs."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    for name, fn in cases(names):
        statements.clear()
        fn(engine)
        captured = list(statements)
        with engine.connect() as conn:  # one transaction: the SET LOCALs of a case apply to its statements
            for stmt, params in captured:
                if stmt.lstrip().upper().startswith("SET "):
                    conn.exec_driver_sql(stmt, params)
                    continue
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params).scalars().all()
                print(f"== {name}\n{stmt}\n" + "\n".join(plan) + "\n")
    event.remove(engine, "before_cursor_execute", capture)


def migrate(url: str) -> None:
    """Upgrade one revision at a time to head, timing each (0003 builds indexes, 0004 fills the counts)."""
    from pipeline.store.db import current, upgrade

    revisions = sorted(p.name.split("_", 1)[0] for p in (ROOT / "migrations" / "versions").glob("[0-9]*_*.py"))
    for rev in revisions:
        if (current(url) or "") >= rev:
            continue
        t0 = time.perf_counter()
        upgrade(url, rev)
        print(f"migrated to {rev} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def machine() -> str:
    import os

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    mem = next((int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    return f"nproc={os.cpu_count()} cpu={cpu!r} ram={mem / 1024 / 1024:.0f} GiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--entities", type=int, default=20_000, help="size of the entity pool")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per query (after one warm-up)")
    ap.add_argument("--database-url", help="a PostgreSQL database (default: a throwaway server)")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="leave the throwaway server running (prints its URL)")
    args = ap.parse_args()

    import sqlalchemy as sa

    from pipeline.store.db import current, head, make_engine, upgrade

    server = None
    url = args.database_url
    if url is None:
        from devtools.pgserver import PgServer, find_pg_bin

        bin_dir = find_pg_bin()
        if bin_dir is None:
            sys.exit("PostgreSQL binaries not found (apt-get install postgresql), or pass --database-url")
        server = PgServer(bin_dir)
        server.init()
        server.start()
        url = server.create_database("bench")
    try:
        if current(url) is None:
            upgrade(url, "0002")  # COPY first, then the indexes of 0003 (faster than updating them)
        engine = make_engine(url)
        with engine.connect() as conn:
            have = conn.scalar(sa.text("SELECT count(*) FROM articles"))
            version = conn.scalar(sa.text("SHOW server_version"))
        if have == 0:
            load(url, args.articles, args.entities)
            if (current(url) or "") >= "0004":  # COPY went around the writer: count the mentions
                from pipeline.store.counts import rebuild_counts

                rebuild_counts(engine)
        elif have != args.articles:
            sys.exit(f"the database holds {have:,} articles, not {args.articles:,}: use an empty one")
        migrate(url)
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        names = pick_names(engine)
        if args.explain:
            explain(engine, names)
            return 0
        results = run(engine, names, args.runs)
        engine.dispose()
    finally:
        if server is not None and args.keep:
            print(f"server kept: --database-url {url}  (stop: pg_ctl stop -D {server.data})", file=sys.stderr)
        elif server is not None:
            server.cleanup()
    if args.json:
        print(json.dumps({"machine": machine(), "postgresql": version, "schema": head(), "results": results},
                         indent=2))
        return 0
    print(f"{machine()}; PostgreSQL {version}; schema {head()}; {args.articles:,} articles; "
          f"median and max of {args.runs} runs after a warm-up")
    print(f"{'query':52s} {'median ms':>10s} {'max ms':>8s} {'rows':>6s}")
    for r in results:
        flag = "" if r["max_ms"] < 200 else "   <-- over 200 ms"
        print(f"{r['query']:52s} {r['median_ms']:10.1f} {r['max_ms']:8.1f} {r['rows']:6d}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
