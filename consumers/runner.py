"""Build and run one consumer worker from settings: what `consume` runs in-process or in each child."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

from pipeline.config import Settings, load_settings
from pipeline.logs import configure, say


@dataclass
class WorkerOptions:
    until_idle: float | None = None
    max_articles: int | None = None
    keep_all_events: bool = False
    named_only: bool = False  # only events with a named actor or target
    from_beginning: bool = True
    db_retry_seconds: float = 300.0
    shutdown_timeout: float = 30.0
    workers: int = 1  # with several, an --instance-id given is suffixed with each worker's index


def metrics_port_for(base: int, index: int) -> int:
    """Worker i serves /metrics on base + i (0 = any free port, -1 = none)."""
    return base + index if base > 0 else base


def instance_id_for(given: str | None, index: int, workers: int) -> str | None:
    """The static membership id of worker ``index``: the one given (suffixed when there are several)."""
    if given and workers > 1:
        return f"{given}-{index}"
    return given


def run_worker(flags: dict[str, Any], opts: WorkerOptions, index: int = 0, *, announce: bool = True) -> Any:
    """Everything one worker needs, then its loop; returns its WorkerStats."""
    from consumers.worker import Worker
    from pipeline.bus.logbridge import bridge_client_logs
    from pipeline.extract import load_nlp
    from pipeline.metrics import Metrics
    from pipeline.store.db import make_engine

    settings: Settings = load_settings(**flags)
    configure(settings.log_format, settings.log_level)
    bridge_client_logs(settings.log_level)
    metrics = Metrics()
    metrics.build_info.info({"version": metrics.version, "spacy_model": settings.spacy_model,
                             "worker": str(index)})
    port = metrics_port_for(settings.metrics_port, index)
    if port >= 0:
        try:
            bound = metrics.serve(port, settings.metrics_host)
        except OSError:
            bound = metrics.serve(0, settings.metrics_host)
        if announce:
            say(f"worker {index}: metrics on http://{settings.metrics_host}:{bound}/metrics",
                event="metrics_serving", worker=index, url=f"http://{settings.metrics_host}:{bound}/metrics")
    engine = make_engine(settings.database_url_with_password())
    worker = Worker(settings, engine=engine, nlp=load_nlp(settings.spacy_model), metrics=metrics,
                    from_beginning=opts.from_beginning, db_retry_seconds=opts.db_retry_seconds,
                    keep_all_events=opts.keep_all_events, named_only=opts.named_only, index=index,
                    instance_id=instance_id_for(settings.instance_id, index, opts.workers))
    worker.install_signal_handlers(opts.shutdown_timeout)
    # the model, the clients and the modules are here for the life of the process: keep them out of
    # every later garbage collection (measured: ~4% less time per article, docs/benchmarks.md)
    gc.freeze()
    try:
        stats = worker.run(until_idle=opts.until_idle, max_articles=opts.max_articles)
        if not stats.failure:
            metrics.stopping()  # a clean stop: newsstream_stopping 1 and one last scrape (bounded), so no page
        return stats
    finally:
        engine.dispose()
