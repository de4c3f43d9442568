"""Every Prometheus metric newsstream exposes, defined in one place.

``Metrics(registry=...)``: tests pass a fresh ``CollectorRegistry``; processes create
one registry each and serve it with ``serve()``. Names carry the ``newsstream_`` prefix
and their unit, per the Prometheus naming conventions.
"""

from __future__ import annotations

import contextlib
import threading
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

from pipeline import __version__

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LARGEST_STORIES = 10  # stories each worker reports in newsstream_story_articles
LAST_SCRAPE_SECONDS = 6.0  # how long a clean stop waits for a last scrape: the 5 s scrape interval, plus slack
LAST_SCRAPE_MAX_SECONDS = 15.0  # ... or 1.5 scrape intervals as seen so far, up to this


class ScrapeWatch:
    """A collector that exports nothing and notes each scrape (it is collected last, after every metric)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.scrapes = 0
        self.interval: float | None = None  # between the last two scrapes
        self._last: float | None = None
        self._thread: threading.Thread | None = None

    def describe(self) -> list:
        return []

    def collect(self) -> list:
        with self._cond:
            now = time.monotonic()
            if self._last is not None:
                self.interval = now - self._last
            self._last, self._thread = now, threading.current_thread()
            self.scrapes += 1
            self._cond.notify_all()
        return []

    def wait_next(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for a scrape to start after this call and its answer to be sent."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = self.scrapes
            if not self._cond.wait_for(lambda: self.scrapes > seen, timeout):
                return False
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()) + 1.0)  # the request thread writes the answer
        return True


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry()
        # what an operator reads first: resident memory, CPU seconds, open files of this process
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        # producer
        self.articles_produced = Counter("newsstream_articles_produced_total",
                                         "Articles delivered to Kafka, by source", ["source"], registry=r)
        self.articles_rejected = Counter("newsstream_articles_rejected_total",
                                         "Input refused before Kafka, by reason", ["reason"], registry=r)
        self.duplicates_skipped = Counter("newsstream_duplicates_skipped_total",
                                          "Articles skipped because their id was already sent", registry=r)
        self.delivery_failures = Counter("newsstream_delivery_failures_total",
                                         "Messages Kafka did not acknowledge after all retries", registry=r)
        self.produce_latency = Histogram("newsstream_produce_latency_seconds",
                                         "Time from produce() to the broker's acknowledgement",
                                         buckets=LATENCY_BUCKETS, registry=r)
        # consumer
        self.messages_consumed = Counter("newsstream_messages_consumed_total",
                                         "Kafka messages read by consumer workers", registry=r)
        self.articles_processed = Counter("newsstream_articles_processed_total",
                                          "Articles extracted and committed to the database", registry=r)
        self.articles_failed = Counter("newsstream_articles_failed_total",
                                       "Messages that could not be processed, by reason", ["reason"], registry=r)
        self.dlq_messages = Counter("newsstream_dlq_messages_total",
                                    "Messages sent to the dead-letter topic, by reason", ["reason"], registry=r)
        self.entities_extracted = Counter("newsstream_entities_extracted_total",
                                          "Entities extracted, by label", ["label"], registry=r)
        self.events_extracted = Counter("newsstream_events_extracted_total",
                                        "Events extracted, by family (political, business, justice...) and type",
                                        ["family", "type"], registry=r)
        self.events_by_country = Counter("newsstream_events_by_country_total",
                                         "Events extracted, by the ISO 3166 country where they happened "
                                         "('none': not placed)", ["country"], registry=r)
        self.batch_size = Histogram("newsstream_batch_size_messages", "Messages per consumer batch",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.stage_duration = Histogram("newsstream_stage_duration_seconds",
                                        "Worker time per batch stage (decode, nlp, rules, db_write, commit)",
                                        ["stage"], buckets=LATENCY_BUCKETS, registry=r)
        self.end_to_end_latency = Histogram("newsstream_end_to_end_latency_seconds",
                                            "From the article's produce time to its database commit",
                                            buckets=LATENCY_BUCKETS, registry=r)
        self.db_retries = Counter("newsstream_db_retries_total", "Database writes retried", registry=r)
        self.rebalances = Counter("newsstream_rebalances_total", "Partition assignment changes, by kind",
                                  ["kind"], registry=r)
        self.consumer_lag = Gauge("newsstream_consumer_lag_messages",
                                  "End offset minus committed offset, per partition this worker owns",
                                  ["topic", "partition"], registry=r)
        # the same number under kafka_exporter's name, so its dashboards and alerts work unchanged
        self.kafka_consumergroup_lag = Gauge("kafka_consumergroup_lag",
                                             "Current approximate lag of a consumer group at topic/partition",
                                             ["consumergroup", "topic", "partition"], registry=r)
        self.worker_restarts = Counter("newsstream_worker_restarts_total",
                                       "Worker processes restarted by the `consume --workers` supervisor after a "
                                       "crash", ["worker"], registry=r)
        self.outage_seconds = Counter("newsstream_outage_seconds_total",
                                      "Seconds a worker held its partitions paused while the database or the "
                                      "dead-letter topic was unavailable", ["what"], registry=r)
        self.stories_created = Counter("newsstream_stories_created_total", "Stories created by story assignment",
                                       registry=r)
        self.story_merges = Counter("newsstream_story_merges_total",
                                    "Stories merged into another (the same event, found by two workers at once)",
                                    registry=r)
        self.story_seconds = Counter("newsstream_story_assignment_seconds_total",
                                     "Seconds spent assigning articles to stories (part of the db_write stage)",
                                     registry=r)
        self.story_articles = Gauge("newsstream_story_articles",
                                    f"Articles of the {LARGEST_STORIES} largest stories this process assigned an "
                                    "article to since it started, by story id (as of its last commit in them)",
                                    ["story"],
                                    registry=r)
        self._story_sizes: dict[int, int] = {}  # what story_articles shows
        self.build_info = Info("newsstream_build", "Version and spaCy model", registry=r)
        self.stopping_gauge = Gauge("newsstream_stopping", "1 once this process began a clean shutdown (SIGTERM, "
                                    "--until-idle, end of input): its target going down is no outage", registry=r)
        self.scrape_watch = ScrapeWatch()
        r.register(self.scrape_watch)  # last: a scrape it sees has read every metric above
        self.version = __version__
        self.build_info.info({"version": __version__})

    def stopping(self, *, timeout: float = LAST_SCRAPE_SECONDS, unscraped_timeout: float = 0.0) -> bool:
        """A clean shutdown: set ``newsstream_stopping`` to 1 and wait for one more scrape, bounded, so that
        Prometheus has the final counts and knows the stop was deliberate (NewsstreamTargetDown stays
        quiet). Call it last, once the final counts are in. A process nobody scraped yet waits
        ``unscraped_timeout`` (0: not at all; a short bulk `produce` on a known port may wait a little);
        else ``timeout``, or 1.5 scrape intervals as seen so far (at most LAST_SCRAPE_MAX_SECONDS).
        True when a scrape read it."""
        self.stopping_gauge.set(1)
        watch = self.scrape_watch
        if watch.scrapes == 0:
            wait = unscraped_timeout
        else:
            wait = min(max(timeout, 1.5 * (watch.interval or 0.0)), LAST_SCRAPE_MAX_SECONDS)
        return wait > 0 and watch.wait_next(wait)

    def largest_stories(self, sizes: dict[int, int]) -> None:
        """One committed batch's stories (``StoryStats.sizes``: story id -> its article count, 0 once
        merged): each comes in with its count, a merged one leaves, and the ``LARGEST_STORIES``
        largest this process has seen stay in ``newsstream_story_articles``."""
        shown = self._story_sizes
        before = set(shown)
        for story, n in sizes.items():
            if n > 0:
                shown[story] = n
            else:
                shown.pop(story, None)
        keep = sorted(shown, key=lambda s: (-shown[s], s))[:LARGEST_STORIES]
        self._story_sizes = {s: shown[s] for s in keep}
        for story in before - set(keep):
            with contextlib.suppress(KeyError):
                self.story_articles.remove(str(story))
        for story in keep:
            self.story_articles.labels(str(story)).set(shown[story])

    def set_lag(self, group: str, topic: str, partition: int, lag: float) -> None:
        """Lag of one partition (end offset minus committed offset), under both metric names."""
        lag = max(0.0, lag)
        self.consumer_lag.labels(topic, str(partition)).set(lag)
        self.kafka_consumergroup_lag.labels(group, topic, str(partition)).set(lag)

    def forget_partition(self, group: str, topic: str, partition: int) -> None:
        """Stop reporting the lag of a partition this process no longer owns (after a rebalance),
        so that summing over every worker counts each partition once."""
        for gauge, labels in ((self.consumer_lag, (topic, str(partition))),
                              (self.kafka_consumergroup_lag, (group, topic, str(partition)))):
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics on ``port`` (0 = a free port); returns the port bound."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)
