"""pipeline.metrics: names, units and the lag helpers, each test on a fresh CollectorRegistry;
and the worker's lag, read right after each offset commit against the real broker."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from pipeline import __version__
from pipeline.article import Article, encode
from pipeline.bus.broker import free_port
from pipeline.config import Settings
from pipeline.metrics import Metrics


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(registry=CollectorRegistry())


def exposed_names(m: Metrics) -> dict[str, str]:
    """Metric family name -> type, as a scrape sees them."""
    return {fam.name: fam.type for fam in m.registry.collect()}


def test_every_metric_has_the_prefix_and_its_unit_in_the_name(metrics: Metrics) -> None:
    names = exposed_names(metrics)
    for name, kind in names.items():
        if name.startswith(("process_", "python_")):  # prometheus-client's own process and platform collectors
            continue
        assert name.startswith("newsstream_") or name == "kafka_consumergroup_lag", name
        if kind == "counter":
            # prometheus-client drops the _total of a counter's family name; the sample keeps it
            assert not name.endswith("_total")
        elif kind == "histogram":
            assert name.endswith(("_seconds", "_messages")), name
    metrics.articles_processed.inc()
    page = {s.name for fam in metrics.registry.collect() for s in fam.samples}
    assert "newsstream_articles_processed_total" in page


def test_the_issue_s_metrics_are_all_there(metrics: Metrics) -> None:
    names = exposed_names(metrics)
    expected = {
        "newsstream_articles_produced": "counter", "newsstream_articles_rejected": "counter",
        "newsstream_duplicates_skipped": "counter", "newsstream_delivery_failures": "counter",
        "newsstream_produce_latency_seconds": "histogram",
        "newsstream_messages_consumed": "counter", "newsstream_articles_processed": "counter",
        "newsstream_articles_failed": "counter", "newsstream_dlq_messages": "counter",
        "newsstream_entities_extracted": "counter", "newsstream_events_extracted": "counter",
        "newsstream_batch_size_messages": "histogram", "newsstream_stage_duration_seconds": "histogram",
        "newsstream_end_to_end_latency_seconds": "histogram", "newsstream_db_retries": "counter",
        "newsstream_rebalances": "counter", "newsstream_consumer_lag_messages": "gauge",
        "kafka_consumergroup_lag": "gauge", "newsstream_build": "info",
    }
    assert {n: names.get(n) for n in expected} == expected


def test_build_info_carries_the_version(metrics: Metrics) -> None:
    assert metrics.registry.get_sample_value("newsstream_build_info", {"version": __version__}) == 1


def test_set_lag_exports_both_names_and_never_a_negative_lag(metrics: Metrics) -> None:
    metrics.set_lag("grp", "news", 2, 17)
    get = metrics.registry.get_sample_value
    assert get("newsstream_consumer_lag_messages", {"topic": "news", "partition": "2"}) == 17
    assert get("kafka_consumergroup_lag", {"consumergroup": "grp", "topic": "news", "partition": "2"}) == 17
    metrics.set_lag("grp", "news", 2, -3)  # a committed offset past a stale end offset
    assert get("newsstream_consumer_lag_messages", {"topic": "news", "partition": "2"}) == 0
    assert get("kafka_consumergroup_lag", {"consumergroup": "grp", "topic": "news", "partition": "2"}) == 0


def test_a_revoked_partition_stops_being_reported(metrics: Metrics) -> None:
    metrics.set_lag("grp", "news", 0, 5)
    metrics.set_lag("grp", "news", 1, 7)
    metrics.forget_partition("grp", "news", 0)
    metrics.forget_partition("grp", "news", 9)  # never reported: nothing to do, no error
    get = metrics.registry.get_sample_value
    assert get("newsstream_consumer_lag_messages", {"topic": "news", "partition": "0"}) is None
    assert get("kafka_consumergroup_lag", {"consumergroup": "grp", "topic": "news", "partition": "0"}) is None
    assert get("kafka_consumergroup_lag", {"consumergroup": "grp", "topic": "news", "partition": "1"}) == 7


def test_fresh_registries_do_not_share_values() -> None:
    a, b = Metrics(registry=CollectorRegistry()), Metrics(registry=CollectorRegistry())
    a.articles_processed.inc(3)
    assert a.registry.get_sample_value("newsstream_articles_processed_total") == 3
    assert b.registry.get_sample_value("newsstream_articles_processed_total") == 0


def test_serve_exposes_the_kafka_exporter_lag_name_over_http(metrics: Metrics) -> None:
    metrics.set_lag("demo", "news.articles", 1, 42)
    port = metrics.serve(free_port())
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'kafka_consumergroup_lag{consumergroup="demo",partition="1",topic="news.articles"} 42.0' in page
    assert 'newsstream_consumer_lag_messages{partition="1",topic="news.articles"} 42.0' in page


@pytest.mark.kafka
def test_the_worker_reports_lag_right_after_each_commit(kafka_settings: Settings, tmp_path) -> None:
    from consumers.worker import Worker
    from pipeline.extract import load_nlp
    from pipeline.store.db import make_engine, upgrade

    s = kafka_settings.model_copy(update={"batch_size": 4})
    from tests.pipeline_helpers import send_raw

    arts = [Article.build(body=f"Mayor Ana Ruiz opened bridge number {i} in Porto.", title=f"bridge {i}")
            for i in range(10)]
    send_raw(s.bootstrap_servers, s.topic, [(a.id.encode(), encode(a)) for a in arts], partition=0)
    url = f"sqlite:///{tmp_path / 'lag.db'}"
    upgrade(url)
    metrics = Metrics(registry=CollectorRegistry())
    worker = Worker(s, engine=make_engine(url), nlp=load_nlp(), metrics=metrics)
    seen: list[tuple[int, float | None, float | None]] = []

    def after_batch(stats) -> None:  # runs after the commit, before the periodic lag update
        get = metrics.registry.get_sample_value
        seen.append((stats.consumed,
                     get("newsstream_consumer_lag_messages", {"topic": s.topic, "partition": "0"}),
                     get("kafka_consumergroup_lag", {"consumergroup": s.group, "topic": s.topic, "partition": "0"})))

    stats = worker.run(max_articles=10, until_idle=30, on_batch=after_batch)  # idle: the deadline
    assert seen and seen[-1][0] == 10
    for consumed, lag, exporter_lag in seen:
        assert lag == 10 - consumed, seen
        assert exporter_lag == lag

    # and where the time went: every stage timed once per batch, every article's latency observed
    get = metrics.registry.get_sample_value
    for stage in ("decode", "nlp", "rules", "db_write", "commit"):
        assert get("newsstream_stage_duration_seconds_count", {"stage": stage}) == stats.batches
    assert get("newsstream_end_to_end_latency_seconds_count") == 10
    assert 0 < get("newsstream_end_to_end_latency_seconds_sum") < 10 * 120
    assert get("newsstream_batch_size_messages_sum") == 10


def test_every_process_reports_its_memory_cpu_and_open_files_in_the_same_registry() -> None:
    registry = CollectorRegistry()
    Metrics(registry=registry)
    rss = registry.get_sample_value("process_resident_memory_bytes")
    assert rss is not None and rss > 10_000_000  # a Python process with prometheus-client loaded
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    assert (registry.get_sample_value("process_open_fds") or 0) >= 3
