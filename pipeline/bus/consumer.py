"""Reading from Kafka in a consumer group: batches of plain records, explicit commits, pause/resume, lag.

The group uses the cooperative-sticky assignor and, when an instance id is given, static
membership: a member that restarts with the same id gets its partitions back without a
rebalance, and ``close(leave=True)`` hands them over at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pipeline.bus.config import consumer_kwargs
from pipeline.bus.errors import describe, unreachable
from pipeline.config import Settings
from pipeline.errors import BrokerError, BrokerUnavailable
from pipeline.records import ConsumedRecord

Partition = tuple[str, int]
OnPartitions = Callable[[list[Partition]], None]
JOIN_WAIT_SECONDS = 15.0  # how long one poll() goes on polling while a group join round is in flight


class CommitFailed(BrokerError):
    """The group did not take the offsets (a rebalance moved the partitions, or the broker is away)."""

    retriable = True


class InstanceFenced(BrokerError):
    """Another running consumer of the group uses the same static instance id."""


class Rebalancing(BrokerUnavailable):
    """A group join round is in flight: the coordinator is not asked anything meanwhile (see ``joining``)."""


class BusConsumer:
    def __init__(self, settings: Settings, *, group: str, from_beginning: bool = True,
                 instance_id: str | None = None, **overrides: Any) -> None:
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        self.settings = settings
        self.group = group
        self.instance_id = instance_id
        try:
            self._c = KafkaConsumer(**consumer_kwargs(settings, group=group, from_beginning=from_beginning,
                                                      instance_id=instance_id, **overrides))
        except KafkaError as exc:
            raise unreachable(settings.bootstrap_servers, exc) from None
        self._lock = threading.Lock()
        self._assigned: set[Partition] = set()
        self._holding = False  # paused on purpose: partitions assigned meanwhile are paused too
        self.ever_assigned = False
        self.assignments = 0  # how many times partitions were added to this member

    # -- membership -----------------------------------------------------------
    def subscribe(self, topics: Iterable[str], *, on_assign: OnPartitions | None = None,
                  on_revoke: OnPartitions | None = None) -> None:
        from kafka import ConsumerRebalanceListener

        outer = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_assigned(self, assigned: Any) -> None:
                parts = sorted((tp.topic, tp.partition) for tp in assigned)
                with outer._lock:
                    outer._assigned |= set(parts)
                    if parts:
                        outer.ever_assigned = True
                        outer.assignments += 1
                    if outer._holding and assigned:
                        outer._c.pause(*assigned)
                if on_assign and parts:
                    on_assign(parts)

            def on_partitions_revoked(self, revoked: Any) -> None:
                parts = sorted((tp.topic, tp.partition) for tp in revoked)
                with outer._lock:
                    outer._assigned -= set(parts)
                if on_revoke and parts:
                    on_revoke(parts)

        self._c.subscribe(topics=list(topics), listener=Listener())

    def assignment(self) -> set[Partition]:
        with self._lock:
            return set(self._assigned)

    # -- reading ----------------------------------------------------------------
    def poll(self, max_records: int, timeout: float = 0.5) -> list[ConsumedRecord]:
        """Up to ``max_records`` records: waits up to ``timeout`` for the first, then takes what is fetched.

        While a group join round is in flight it goes on polling (up to ``JOIN_WAIT_SECONDS``), so the
        round ends inside a poll: see ``joining``."""
        out = self._poll_once(max_records, timeout)
        deadline = time.monotonic() + JOIN_WAIT_SECONDS
        while self.joining() and time.monotonic() < deadline:
            if len(out) < max_records:
                out += self._poll_once(max_records - len(out), 1.0)
            else:  # a full batch: the round must still end in a poll; what that brings is read again later
                self.rewind(self._poll_once(1, 1.0))
        return out

    def joining(self) -> bool:
        """True while a JoinGroup/SyncGroup round is in flight.

        kafka-python 3.0.12 runs the round as a task that only a poll() in progress completes. If it
        ends while this thread is elsewhere, the next poll() drops its assignment and joins again
        (``join_group_async`` makes a new task when the old one ``is_done``). A coordinator request made
        meanwhile (committed offsets, for lag) waits behind the JoinGroup on the same connection and
        returns just as the round ends, so every round was lost: one worker rejoined every 2.5 s for
        110 s and read nothing. Hence: poll on while joining, and no coordinator request meanwhile."""
        task = getattr(getattr(self._c, "_coordinator", None), "_join_task", None)
        return task is not None and not getattr(task, "is_done", True)

    def _poll_once(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        from kafka.errors import FencedInstanceIdError, KafkaError

        try:
            batches = self._c.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        except FencedInstanceIdError:
            raise InstanceFenced(f"another consumer of group {self.group!r} runs with instance id "
                                 f"{self.instance_id!r}: give each process its own --instance-id") from None
        except KafkaError as exc:
            raise BrokerUnavailable(f"polling Kafka failed: {describe(exc)}") from None
        out = []
        for tp, records in batches.items():
            for r in records:
                ts = r.timestamp if r.timestamp_type == 0 and r.timestamp and r.timestamp > 0 else None
                out.append(ConsumedRecord(tp.topic, tp.partition, r.offset, r.key, r.value,
                                          list(r.headers or []), ts))
        return out

    def hold(self) -> None:
        """Pause every assigned partition (and those assigned later) while still taking part in the group."""
        with self._lock:
            self._holding = True
            tps = self._tps(self._assigned)
        if tps:
            self._c.pause(*tps)

    def release(self) -> None:
        with self._lock:
            self._holding = False
        paused = list(self._c.paused())
        if paused:
            self._c.resume(*paused)

    def keep_alive(self, seconds: float) -> None:
        """Poll while held, so the group does not evict this member during a long outage.

        A held consumer fetches nothing; should a record slip through (a partition assigned between
        two calls), its partition is rewound so the record is read again later, never skipped.
        """
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                got = self.poll(500, timeout=min(left, 1.0))
            except BrokerUnavailable:
                time.sleep(min(left, 0.5))
                continue
            self.rewind(got)
            if got:
                self.hold()

    def rewind(self, records: Iterable[ConsumedRecord]) -> None:
        """Read these records again from the first of each partition (they were not processed)."""
        from kafka import TopicPartition

        first: dict[Partition, int] = {}
        for r in records:
            key = (r.topic, r.partition)
            first[key] = min(first.get(key, r.offset), r.offset)
        owned = self._c.assignment()
        for (t, p), offset in first.items():
            if TopicPartition(t, p) in owned:  # a partition revoked meanwhile is read again by its new owner
                self._c.seek(TopicPartition(t, p), offset)

    # -- committing ---------------------------------------------------------------
    def commit_soon(self, offsets: Mapping[Partition, int], on_done: Callable[[str | None], None]) -> None:
        """Commit without blocking: what a revocation callback may do (it runs on the client's IO thread,
        where ``commit`` cannot wait). ``on_done(error or None)`` is called when the broker has answered."""
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError

        def answered(_offsets: Any, response: Any) -> None:
            on_done(describe(response) if isinstance(response, BaseException) else None)

        payload = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}
        try:
            self._c.commit_async(payload, callback=answered)
        except (KafkaError, AssertionError) as exc:
            on_done(describe(exc))

    def commit(self, offsets: Mapping[Partition, int]) -> None:
        """Commit the next offset to read for each partition; raises ``CommitFailed``."""
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError

        payload = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}
        try:
            self._c.commit(payload, timeout_ms=30_000)
        except (KafkaError, AssertionError) as exc:
            raise CommitFailed(f"offset commit failed: {describe(exc)}") from None

    # -- lag ------------------------------------------------------------------------
    def lag(self, timeout: float = 5.0) -> dict[Partition, int]:
        """End offset minus this member's position, for every partition it owns (asks the broker);
        raises ``Rebalancing`` while a join round is in flight."""
        self._not_joining()
        tps = self._tps(self.assignment())
        if not tps:
            return {}
        ends = self._c.end_offsets(tps, timeout_ms=int(timeout * 1000))
        out = {}
        for tp in tps:
            try:
                pos = self._c.position(tp, timeout_ms=int(timeout * 1000))
            except Exception:  # no position yet: count from the committed offset
                pos = None
            committed = self._committed(tp, timeout) if pos is None else pos
            out[(tp.topic, tp.partition)] = max(0, int(ends[tp]) - int(committed or 0))
        return out

    def group_lag(self, topic: str, timeout: float = 5.0) -> dict[Partition, int]:
        """End offset minus the group's committed offset, for every partition of ``topic``; raises
        ``Rebalancing`` while a join round is in flight."""
        from kafka import TopicPartition

        self._not_joining()
        parts = self._c.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return {}
        ends = self._c.end_offsets(tps, timeout_ms=int(timeout * 1000))
        begins = self._c.beginning_offsets(tps, timeout_ms=int(timeout * 1000))
        out = {}
        for tp in tps:
            done = self._committed(tp, timeout)
            out[(topic, tp.partition)] = max(0, int(ends[tp]) - int(begins[tp] if done is None else done))
        return out

    def cached_lag(self, offsets: Mapping[Partition, int]) -> dict[Partition, int]:
        """Lag after committing ``offsets``, from the high watermark the fetcher last saw (no broker call)."""
        from kafka import TopicPartition

        out = {}
        for (t, p), o in offsets.items():
            high = self._c.highwater(TopicPartition(t, p))
            if high is not None:
                out[(t, p)] = max(0, int(high) - o)
        return out

    def _not_joining(self) -> None:
        if self.joining():
            raise Rebalancing(f"group {self.group!r} is rebalancing")

    def _committed(self, tp: Any, timeout: float) -> int | None:
        value = self._c.committed(tp, timeout_ms=int(timeout * 1000))
        return None if value is None else int(value)

    @staticmethod
    def _tps(parts: Iterable[Partition]) -> list[Any]:
        from kafka import TopicPartition

        return [TopicPartition(t, p) for t, p in sorted(parts)]

    # -- closing ------------------------------------------------------------------------
    def close(self, *, leave: bool = True) -> None:
        """Close; with ``leave`` a static member also leaves the group, so its partitions move at once."""
        with contextlib.suppress(Exception):  # closing must not raise over the real error
            self._c.close(autocommit=False, timeout_ms=10_000)
        if leave and self.instance_id:
            from pipeline.bus.admin import remove_static_member

            remove_static_member(self.settings, self.group, self.instance_id)
