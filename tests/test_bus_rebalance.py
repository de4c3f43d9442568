"""Two members of one group, one asking for lag between empty polls as a worker's idle check does,
the other slow to come back to poll() as a busy worker is: the rebalance the second member starts
must end, and every record be read, within seconds.

kafka-python 3.0.12 drops a join round that ends while the polling thread is elsewhere; a
committed-offsets request made during the round waits behind the JoinGroup on the same
connection and returns just as the round ends, so without ``BusConsumer.joining`` the first
member rejoined every 2-3 s and read nothing for minutes (``newsstream bench``, 2 workers)."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.bus.clients import BusConsumer, send_all
from pipeline.config import Settings

pytestmark = pytest.mark.kafka

PER_PARTITION = 5


class Member(threading.Thread):
    def __init__(self, s: Settings, name: str, stop: threading.Event, work_seconds: float = 0.0) -> None:
        super().__init__(name=name, daemon=True)
        self.consumer = BusConsumer(s, group=s.group, instance_id=name)
        self.topic = s.topic
        self.stop = stop
        self.work_seconds = work_seconds  # time spent away from poll() after each poll, as a busy worker's
        self.read: list[tuple[int, int]] = []
        self.lag_checks = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.consumer.subscribe([self.topic])
            while not self.stop.is_set():
                got = self.consumer.poll(10, timeout=0.5)
                self.read += [(r.partition, r.offset) for r in got]
                time.sleep(self.work_seconds)
                if got:
                    self.consumer.commit({(r.topic, r.partition): r.offset + 1 for r in got})
                    continue
                try:  # what the worker's idle check asks after an empty poll
                    self.consumer.lag()
                    self.consumer.group_lag(self.topic)
                    self.lag_checks += 1
                except Exception:
                    pass
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.consumer.close()


def test_a_second_member_joining_while_the_first_checks_lag_ends_its_rebalance_and_reads_everything(
        kafka_settings: Settings) -> None:
    s = kafka_settings
    stop = threading.Event()
    first = Member(s, "rebalance-a", stop)
    first.start()
    second = None
    try:
        deadline = time.monotonic() + 60
        while not first.consumer.assignment():
            assert time.monotonic() < deadline and first.error is None, f"no assignment: {first.error}"
            time.sleep(0.2)
        while first.lag_checks < 3:  # the first member is idle, asking for lag between polls
            assert time.monotonic() < deadline and first.error is None, f"no lag checks: {first.error}"
            time.sleep(0.2)
        second = Member(s, "rebalance-b", stop, work_seconds=1.5)  # its joins come late: the first waits
        second.start()
        time.sleep(1.0)  # the second member's join is under way when the records arrive
        parts = range(3)
        for p in parts:
            send_all(s, s.topic, [(None, f"{p}-{i}".encode()) for i in range(PER_PARTITION)], partition=p)
        started = time.monotonic()
        expected = {(p, i) for p in parts for i in range(PER_PARTITION)}
        while set(first.read) | set(second.read) != expected or not second.consumer.assignment():
            assert first.error is None and second.error is None, (first.error, second.error)
            assert time.monotonic() - started < 45, (
                f"after 45 s: read {len(set(first.read) | set(second.read))} of {len(expected)}, "
                f"first owns {first.consumer.assignment()}, second owns {second.consumer.assignment()}")
            time.sleep(0.2)
        assert first.consumer.assignment() and second.consumer.assignment()  # the rebalance ended with two owners
        assert not first.consumer.assignment() & second.consumer.assignment()
    finally:
        stop.set()
        first.join(30)
        if second is not None:
            second.join(30)
