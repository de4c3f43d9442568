"""Sending to Kafka with an acknowledgement per message, and a bound on what waits for one.

kafka-python completes a send on its I/O thread; ``BusProducer`` queues each outcome and hands it
to the caller's ``on_ack`` in ``poll``/``flush``, on the caller's thread, so producer loops need no
locks of their own. kafka-python 3 has no memory bound of its own: at most ``max_in_flight``
messages and ``max_in_flight_bytes`` bytes are unacknowledged at once, and a send beyond that
waits for room, up to ``max_block`` seconds, then fails with ``ProducerStalled``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pipeline.bus.config import producer_kwargs
from pipeline.bus.errors import describe, unreachable
from pipeline.config import Settings
from pipeline.errors import BrokerError, BrokerUnavailable

# on_ack(error, latency_seconds): error None once the broker acknowledged the message
OnAck = Callable[[str | None, float], None]


class ProducerStalled(BrokerUnavailable):
    """No room for another message: the broker has not acknowledged the ones in flight."""


class BusProducer:
    def __init__(self, settings: Settings, *, max_in_flight: int | None = None,
                 max_in_flight_bytes: int | None = None, **overrides: Any) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        self.settings = settings
        self.max_in_flight = max_in_flight or settings.producer_max_in_flight
        self.max_in_flight_bytes = max_in_flight_bytes or settings.producer_max_in_flight_bytes
        self.max_block = settings.producer_max_block_seconds
        self._conf = producer_kwargs(settings, **overrides)
        self.max_message_bytes = int(self._conf["max_request_size"])
        try:
            self._producer = KafkaProducer(**self._conf)
        except KafkaError as exc:
            raise unreachable(settings.bootstrap_servers, exc) from None
        self._done: deque[tuple[OnAck | None, str | None, float]] = deque()
        self._room = threading.Condition()
        self._renewing = threading.Lock()
        self._in_flight = 0
        self._in_flight_bytes = 0
        self._answered = 0  # sends settled so far: progress, for drain()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def send(self, topic: str, value: bytes | None, *, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None, partition: int | None = None,
             on_ack: OnAck | None = None) -> None:
        """Queue one message; ``on_ack`` is called from a later ``poll``/``flush``.

        A message refused before it is queued (too large, no metadata in time) is reported to
        ``on_ack`` like a failed delivery. Raises ``ProducerStalled`` when no room came in time.
        """
        from kafka.errors import KafkaError

        size = len(value or b"") + len(key or b"") + sum(len(k) + len(v) for k, v in headers or [])
        self._wait_for_room(size)
        self._renew_when_fatal()
        started = time.monotonic()
        try:
            future = self._producer.send(topic, value=value, key=key, headers=headers or [], partition=partition)
        except (KafkaError, ValueError, TypeError) as exc:
            self._done.append((on_ack, describe(exc), 0.0))
            self._release(size)
            return

        def settled(error: str | None) -> None:  # on kafka-python's I/O thread: queue it, then make room
            self._done.append((on_ack, error, time.monotonic() - started))
            self._release(size)

        future.add_callback(lambda _meta: settled(None))
        future.add_errback(lambda exc: settled(describe(exc)))

    def _renew_when_fatal(self) -> None:
        """kafka-python 3's idempotent producer turns fatal on any non-retriable refusal (one message
        over the topic's size limit) and then fails every later send: start a new client instead."""
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        with self._renewing:  # senders on several threads renew it once
            manager = getattr(self._producer, "_transaction_manager", None)
            if manager is None or not manager.has_fatal_error():
                return
            old = self._producer
            try:
                self._producer = KafkaProducer(**self._conf)
            except KafkaError as exc:
                raise unreachable(self.settings.bootstrap_servers, exc) from None
        _close_client(old, 5.0)  # what it still held fails, and is reported as such

    def _wait_for_room(self, size: int) -> None:
        deadline = time.monotonic() + self.max_block
        with self._room:
            while self._in_flight and (self._in_flight >= self.max_in_flight
                                       or self._in_flight_bytes + size > self.max_in_flight_bytes):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._stalled("no room to send more")
                self._room.wait(min(left, 0.5))
            self._in_flight += 1
            self._in_flight_bytes += size

    def _stalled(self, consequence: str) -> ProducerStalled:
        return ProducerStalled(f"Kafka at {self.settings.bootstrap_servers} has not acknowledged {self._in_flight} "
                               f"messages ({self._in_flight_bytes} bytes) for {self.max_block:.0f}s: {consequence}")

    def _release(self, size: int) -> None:
        with self._room:
            self._in_flight -= 1
            self._in_flight_bytes -= size
            self._answered += 1
            self._room.notify_all()

    def poll(self, timeout: float = 0.0) -> int:
        """Hand finished sends to their callbacks (waiting up to ``timeout`` for the first); returns how many."""
        deadline = time.monotonic() + timeout
        while not self._done and self._in_flight and time.monotonic() < deadline:
            with self._room:
                self._room.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        if not self._done and timeout > 0 and not self._in_flight:
            time.sleep(max(0.0, deadline - time.monotonic()))
        served = 0
        while self._done:
            on_ack, error, latency = self._done.popleft()
            served += 1
            if on_ack is not None:
                on_ack(error, latency)
        return served

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for every queued message's answer (up to ``timeout``); returns how many are unanswered."""
        from kafka.errors import KafkaError

        with contextlib.suppress(KafkaError):  # a timeout, or an aborted batch: the unanswered are counted below
            self._producer.flush(timeout=timeout)
        self.poll(0)
        return self._in_flight

    def drain(self) -> None:
        """Wait for every queued message's answer, however long that takes while answers come; raises
        ``ProducerStalled`` when none came for ``max_block`` seconds (the same bound as a send's)."""
        while self._in_flight:
            answered = self._answered
            self.flush(self.max_block)
            if self._in_flight and self._answered == answered:
                raise self._stalled("the messages sent are not delivered")

    def close(self, timeout: float = 10.0) -> None:
        """Wait up to ``timeout`` for the answers still due, then close; what is still unanswered fails."""
        _close_client(self._producer, timeout)
        self.poll(0)


def _close_client(producer: Any, timeout: float) -> None:
    from kafka.errors import KafkaError

    try:
        producer.close(timeout=timeout)
    except KafkaError:  # kafka-python's close gives up in its flush: abort what is pending, close
        producer._sender.force_close()
        producer._sender.join(5)
        producer.close(timeout=0)


def send_all(settings: Settings, topic: str, messages: list[tuple[bytes | None, bytes | None]], *,
             partition: int | None = None, timeout: float = 60.0, **overrides: Any) -> None:
    """Write raw (key, value) pairs and wait until every one is acknowledged (tests, replay, tools)."""
    producer = BusProducer(settings, **overrides)
    errors: list[str] = []
    try:
        for key, value in messages:
            producer.send(topic, value, key=key, partition=partition,
                          on_ack=lambda err, _lat: errors.append(err) if err else None)
        left = producer.flush(timeout)
    finally:
        producer.close()
    if left or errors:
        raise BrokerError(f"{left} messages unanswered, {len(errors)} refused: {errors[:3]}")
