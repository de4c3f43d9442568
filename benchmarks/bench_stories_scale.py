#!/usr/bin/env python3
"""Story assignment as the store grows: time per article at 1k, 10k, 50k and 100k stored (issue 15).

usage: python benchmarks/bench_stories_scale.py [--articles 100000] [--per-day 100] [--batch-size 64]
       [--checkpoints 1000,10000,50000,100000] [--sample 1000] [--postgres-url URL] [--explain] [--json PATH]

A throwaway PostgreSQL server (``devtools.pgserver``, the system binaries, ``fsync`` on as for
``newsstream bench``; as root it runs as the ``postgres`` user), one database migrated to head,
then synthetic articles written in publication order through the real writer
(``pipeline.store.writer.write_batch``: entities, mentions, events, counts, labels, and story
assignment in the same transaction), ``--batch-size`` articles per transaction like a worker's
batch. No spaCy: the extraction records (``pipeline.records``) are built directly.

The synthetic world: real-world events, each reported by 1 to 8 articles of 40 outlets over 0 to 2
days, naming 3 to 6 of 30,000 people, organisations and places (plus, in a third of the articles,
one of 40 countries common enough to pass ``story_max_df``), with a typed event between two of
them and title words of the event. ``--per-day`` articles a day (100: 100,000 articles span 2.7
years), so that the ``story_window_days`` window holds about the same number of articles at every
size past the first week.

At each checkpoint it prints the story assignment seconds per article over the last ``--sample``
articles written before it (``WriteStats.stories.seconds``: the time ``assign_stories`` takes in
the writer's transaction), the whole ``write_batch`` time per article, and the articles in the
window of the last one; then last / first. ``--explain`` prints EXPLAIN ANALYZE of the story
candidate queries of ``pipeline.store.stories`` for one article at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools import pgserver  # noqa: E402

SYLLABLES = ("ka", "ri", "no", "ve", "sa", "lo", "mi", "ta", "ren", "dor", "bel", "an", "ko", "vi", "sha", "tul",
             "mar", "es", "ni", "go", "ra", "hel", "um", "pra", "zin", "fo", "lek", "tor", "bu", "nav", "ish", "del",
             "gra", "mon", "sel", "vek")
LABELS = ("PERSON", "PERSON", "ORG", "GPE")
EVENT_TYPES = ("MEET", "ACCUSE", "AGREE", "PROTEST", "ARREST", "ATTACK", "REQUEST", "APPROVE", "REJECT", "INVESTIGATE")
TRIGGERS = {"MEET": "met", "ACCUSE": "accused", "AGREE": "signed", "PROTEST": "protested", "ARREST": "arrested",
            "ATTACK": "attacked", "REQUEST": "asked", "APPROVE": "praised", "REJECT": "rejected",
            "INVESTIGATE": "investigated"}
COUNTRY_CODES = ("US", "GB", "FR", "DE", "IT", "ES", "RU", "UA", "CN", "JP", "IN", "BR", "NG", "ZA", "EG", "TR",
                 "IR", "IL", "SA", "MX")


class World:
    """Entities, words and outlets of the synthetic news, all from one seed."""

    def __init__(self, seed: int, n_entities: int = 30_000, n_words: int = 6_000) -> None:
        self.rng = random.Random(seed)
        names: set[str] = set()
        while len(names) < n_entities:
            names.add(" ".join(self._word(2, 3).capitalize() for _ in range(2)))
        self.entities = [(n, LABELS[i % len(LABELS)]) for i, n in enumerate(sorted(names))]
        self.rng.shuffle(self.entities)
        common: set[str] = set()
        while len(common) < 40:
            common.add(self._word(3, 4).capitalize() + "land")
        self.common = sorted(common)
        words: set[str] = set()
        while len(words) < n_words:
            words.add(self._word(2, 4))
        self.words = sorted(words)
        self.sources = [f"outlet{i}.example" for i in range(40)]

    def _word(self, lo: int, hi: int) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(lo, hi)))


def _mention(body: str, name: str, at: int) -> tuple[int, int]:
    start = body.index(name, at)
    return start, start + len(name)


def make_article(world: World, aid: str, day: date, event: dict[str, Any]) -> tuple[Any, Any]:
    """One outlet's report of ``event``: title and lead from its words, a body naming its entities."""
    from pipeline.article import Article
    from pipeline.records import Entity, Event, Extraction, Mention, Span, Trigger

    rng = world.rng
    cast = list(event["cast"])
    rng.shuffle(cast)
    keep = cast[:max(3, len(cast) - rng.randint(0, 1))]  # an outlet may leave one name out
    if rng.random() < 0.35:
        keep.append((rng.choice(world.common), "GPE"))
    words = list(event["words"])
    rng.shuffle(words)
    title = " ".join(words[:5]).capitalize()
    lead = " ".join(words[2:8]).capitalize() + "."
    actor, target = event["actor"], event["target"]
    trigger = TRIGGERS[event["type"]]
    sentences = [f"{actor[0]} {trigger} {target[0]} on {event['day'].isoformat()}."]
    sentences += [f"{n} said {' '.join(rng.sample(world.words, 4))}." for n, _lab in keep
                  if n not in (actor[0], target[0])]
    sentences.append(" ".join(rng.sample(world.words, 12)) + ".")
    body = " ".join(sentences)
    ents = []
    named = {n for n, _lab in keep} | {actor[0], target[0]}
    labels = dict(keep) | {actor[0]: actor[1], target[0]: target[1]}
    for name in sorted(named):
        s, e = _mention(body, name, 0)
        ents.append(Entity(name, labels[name], [Mention(name, s, e, "body", sentences[0])]))
    t0 = body.index(trigger)
    a0, _ = _mention(body, actor[0], 0)
    g0, _ = _mention(body, target[0], t0)
    ev = Event(event["type"], Trigger(trigger, trigger, t0, t0 + len(trigger)),
               Span(actor[0], a0, a0 + len(actor[0]), actor[0]), Span(target[0], g0, g0 + len(target[0]), target[0]),
               date=event["day"].isoformat(), sentence=sentences[0], country=event["country"])
    art = Article(id=aid, title=title, body=body, published=day.isoformat(), source=rng.choice(world.sources),
                  lead=lead, url=f"https://example.org/{aid}", language="en")
    return art, Extraction(ents, [ev], country=event["country"])


def articles(world: World, n: int, per_day: int, start: date = date(2023, 1, 2)) -> Iterator[tuple[Any, Any]]:
    """``n`` (article, extraction) pairs in publication order, about ``per_day`` a day."""
    rng = world.rng
    pending: list[tuple[date, int, dict[str, Any]]] = []  # (day, tiebreak, event): reports still to come
    made = seq = 0
    day = start
    today = 0
    while made < n:
        if today >= per_day:
            day, today = day + timedelta(days=1), 0
        if pending and pending[0][0] <= day:  # a report due today (or the day before) comes first
            ev = heapq.heappop(pending)[2]
        else:
            cast = [world.entities[int(rng.paretovariate(0.6)) % len(world.entities)] if rng.random() < 0.2
                    else rng.choice(world.entities) for _ in range(rng.randint(3, 6))]
            cast = list(dict.fromkeys(cast))
            while len(cast) < 3:
                cast.append(rng.choice(world.entities))
            ev = {"cast": cast, "actor": cast[0], "target": cast[1], "type": rng.choice(EVENT_TYPES),
                  "words": rng.sample(world.words, 10), "day": day, "country": rng.choice(COUNTRY_CODES)}
            for _ in range(min(7, int(rng.expovariate(0.5)))):  # 1 + 0..7 more reports, within 2 days
                seq += 1
                heapq.heappush(pending, (day + timedelta(days=rng.randint(0, 2)), seq, ev))
        made += 1
        today += 1
        yield make_article(world, f"scale-{made:06d}", day, ev)


def window_size(engine: Any, day: date, days: int) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return int(conn.execute(sa.text("select count(*) from articles where published_date between :a and :b"),
                                {"a": day - timedelta(days=days), "b": day + timedelta(days=days)}).scalar_one())


def explain(engine: Any, article_id: str, cfg: Any) -> list[tuple[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the queries ``assign_stories`` runs for one stored article."""
    import sqlalchemy as sa

    from pipeline.store.models import article_entities, articles
    from pipeline.store.stories import _Context

    out: list[tuple[str, str]] = []
    with engine.connect() as conn:
        ctx = _Context(conn, cfg)
        row = conn.execute(sa.select(articles.c.published_date).where(articles.c.id == article_id)).one()
        day = row.published_date
        ents = sorted(e for (e,) in conn.execute(sa.select(article_entities.c.entity_id)
                                                 .where(article_entities.c.article_id == article_id)))
        ae = article_entities.c
        queries = {
            "df (articles of the window per entity)": sa.select(ae.entity_id, sa.func.count())
            .where(ae.entity_id.in_(ents), ctx._window(day)).group_by(ae.entity_id),
            "n (articles in the window)": sa.select(sa.func.count()).select_from(articles)
            .where(ctx._article_window(day)),
            "candidates (articles sharing an entity)": sa.select(ae.article_id, ae.entity_id)
            .where(ae.entity_id.in_(ents), ctx._window(day), ae.article_id != article_id),
        }
        for name, q in queries.items():
            sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql)))
            out.append((name, plan))
    return out


def _measure(per_batch: list[tuple[int, float, float]], sample: int) -> tuple[int, float, float]:
    """(articles, story seconds, write_batch seconds) of the last batches holding ``sample`` articles."""
    n, story_s, write_s = 0, 0.0, 0.0
    for a, s, w in reversed(per_batch):
        if n >= sample:
            break
        n, story_s, write_s = n + a, story_s + s, write_s + w
    return n, story_s, write_s


def write_all(engine: Any, opts: argparse.Namespace, cfg: Any, total: int, checkpoints: list[int],
              log: Any) -> dict[str, Any]:
    """Write ``total`` synthetic articles through ``write_batch``; the figures at each checkpoint."""
    from pipeline.store.writer import write_batch

    world = World(opts.seed)
    per_batch: list[tuple[int, float, float]] = []  # (articles, story seconds, write_batch seconds)
    rows: list[dict[str, Any]] = []
    counts = {"stored": 0, "stories": 0, "merges": 0}
    batch: list[tuple[Any, Any, None]] = []
    t_start = time.perf_counter()

    def flush() -> None:
        t0 = time.perf_counter()
        st = write_batch(engine, batch, extractor_version="bench-stories")
        dt = time.perf_counter() - t0
        if st.rejected:
            raise RuntimeError(f"the writer refused synthetic articles: {st.rejected[:3]}")
        per_batch.append((st.articles, st.stories.seconds, dt))
        counts["stored"] += st.articles
        counts["stories"] += st.stories.new
        counts["merges"] += st.stories.merges
        batch.clear()

    for art, ext in articles(world, total, opts.per_day):
        batch.append((art, ext, None))
        if len(batch) < opts.batch_size and counts["stored"] + len(batch) not in checkpoints:
            continue
        flush()
        if counts["stored"] not in checkpoints:
            continue
        n, story_s, write_s = _measure(per_batch, opts.sample)
        row = {"stored": counts["stored"], "sample_articles": n, "story_ms_per_article": 1000 * story_s / n,
               "write_ms_per_article": 1000 * write_s / n,
               "story_share_of_write": story_s / write_s if write_s else None,
               "window_articles": window_size(engine, art.published_date, cfg.window_days),
               "stories": counts["stories"], "merges": counts["merges"], "elapsed_s": time.perf_counter() - t_start}
        rows.append(row)
        log(f"{row['stored']:>7,} stored: story {row['story_ms_per_article']:.2f} ms/article, write_batch "
            f"{row['write_ms_per_article']:.2f} ms/article ({100 * (row['story_share_of_write'] or 0):.0f}% stories), "
            f"{row['window_articles']:,} articles in the window, {counts['stories']:,} stories, "
            f"{row['elapsed_s']:.0f} s so far")
    if batch:
        flush()
    return {"articles": counts["stored"], "stories": counts["stories"], "merges": counts["merges"],
            "checkpoints": rows, "seconds": time.perf_counter() - t_start,
            "story_seconds": sum(s for _a, s, _w in per_batch), "write_seconds": sum(w for _a, _s, w in per_batch)}


def run(opts: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    from pipeline.logs import configure
    from pipeline.store.db import make_engine, upgrade
    from pipeline.store.stories import current_config

    checkpoints = sorted({int(x) for x in opts.checkpoints.split(",") if x.strip()})
    total = max([opts.articles, *checkpoints])
    pg = None
    server_url = opts.postgres_url
    name = f"bench_stories_{uuid.uuid4().hex[:6]}"
    if not server_url:
        bin_dir = pgserver.find_pg_bin()
        if bin_dir is None:
            raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql); or --postgres-url")
        pg = pgserver.PgServer(bin_dir, fsync=True, max_connections=20, prefix="newsstream-bench-stories-")
        pg.init()
        pg.start()
        server_url = pg.url()
    try:
        url = pgserver.create_database(server_url, name)
        upgrade(url)
        engine = make_engine(url)
        cfg = current_config()
        log(f"writing {total:,} articles, {opts.per_day}/day, batches of {opts.batch_size}, into {name} "
            f"(story window ±{cfg.window_days} days, threshold {cfg.threshold}) ...")
        configure("json", "INFO")  # the story decisions logged as a worker logs them: JSON lines, here to a file
        stderr, sys.stderr = sys.stderr, open(opts.log or os.devnull, "w")  # noqa: SIM115 - closed below
        try:
            written = write_all(engine, opts, cfg, total, checkpoints,
                                lambda m: print(m, file=stderr, flush=True))
        finally:
            sys.stderr.close()
            sys.stderr = stderr
        result: dict[str, Any] = {
            "per_day": opts.per_day, "batch_size": opts.batch_size, "seed": opts.seed,
            "window_days": cfg.window_days, "threshold": cfg.threshold, "max_df": cfg.max_df,
            "max_candidates": cfg.max_candidates, **written,
            "machine": {"nproc": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]}}
        rows = written["checkpoints"]
        if len(rows) >= 2:
            result["ratio_last_first"] = rows[-1]["story_ms_per_article"] / rows[0]["story_ms_per_article"]
        if opts.explain and written["articles"]:
            result["explain"] = explain(engine, f"scale-{written['articles']:06d}", cfg)
        engine.dispose()
        return result
    finally:
        if pg is not None:
            pg.stop("fast")
            pg.cleanup()
        elif not opts.keep:
            with contextlib.suppress(Exception):
                pgserver.drop_database(server_url, name)


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['articles']:,} articles ({result['per_day']}/day, batches of {result['batch_size']}), "
             f"story window ±{result['window_days']} days; {result['stories']:,} stories, {result['merges']} merges; "
             f"{result['seconds']:.0f} s in all, of which story assignment {result['story_seconds']:.0f} s",
             "", "| stored | story ms / article | write_batch ms / article | stories' share | articles in the window |",
             "|---:|---:|---:|---:|---:|"]
    for r in result["checkpoints"]:
        lines.append(f"| {r['stored']:,} | {r['story_ms_per_article']:.2f} | {r['write_ms_per_article']:.2f} | "
                     f"{100 * (r['story_share_of_write'] or 0):.0f}% | {r['window_articles']:,} |")
    if "ratio_last_first" in result:
        lines += ["", f"story ms / article, last / first: {result['ratio_last_first']:.2f}"]
    for name, plan in result.get("explain", []):
        lines += ["", f"EXPLAIN ANALYZE, {name}:", plan]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000, help="articles to write (default 100,000)")
    ap.add_argument("--checkpoints", default="1000,10000,50000,100000", help="store sizes to measure at")
    ap.add_argument("--sample", type=int, default=1000, help="articles before each checkpoint to average over")
    ap.add_argument("--per-day", type=int, default=100, help="articles published per day")
    ap.add_argument("--batch-size", type=int, default=64, help="articles per write_batch (a worker's batch)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--postgres-url", help="an existing server (a database is created, and dropped unless --keep)")
    ap.add_argument("--keep", action="store_true", help="with --postgres-url: keep the database")
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the candidate queries at the end")
    ap.add_argument("--log", help="where the JSON log lines go (the story decisions; default: nowhere)")
    ap.add_argument("--json", dest="json_path", help="write the figures as JSON here")
    return ap


def main(argv: list[str] | None = None) -> int:
    opts = build_parser().parse_args(argv)
    result = run(opts, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(render(result))
    if opts.json_path:
        Path(opts.json_path).write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
