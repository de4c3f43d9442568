"""`--until-idle S` (consumers/idle.py) on real group members: a worker stops once the group is caught
up for S seconds, and a new partition assignment starts that clock again (issue 18.1).

The members are real consumers of one group on the test broker; only the clock is the test's own
(so that "10 seconds idle" does not take 10 seconds)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from consumers.idle import IdleWatch
from pipeline.bus.clients import BusConsumer, send_all
from pipeline.config import Settings

pytestmark = pytest.mark.kafka


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Peer(threading.Thread):
    """A second member that polls (and commits what it reads) until told to leave the group."""

    def __init__(self, s: Settings, name: str, *, reading: threading.Event | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.consumer = BusConsumer(s, group=s.group, instance_id=name)
        self.topic = s.topic
        self.leave = threading.Event()
        self.reading = reading  # while given and clear, the peer polls nothing: a busy worker
        self.holding = threading.Event()  # set once its partitions are paused (no poll of it is in flight)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.consumer.subscribe([self.topic])
            held = False
            while not self.leave.is_set():
                if self.reading is not None and not self.reading.is_set() and self.consumer.assignment():
                    # busy, as a worker waiting out an outage is: its partitions paused, the group still
                    # polled, so a rebalance round completes and nothing is read meanwhile
                    if not held:
                        self.consumer.hold()
                        held = True
                        self.holding.set()
                    self.consumer.keep_alive(0.3)
                    continue
                if held:
                    self.consumer.release()
                    held = False
                got = self.consumer.poll(50, timeout=0.3)
                if got:
                    self.consumer.commit({(r.topic, r.partition): r.offset + 1 for r in got})
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.consumer.close()


def poll_until(consumer: BusConsumer, what: Callable[[], bool], message: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, f"{message}: {sorted(consumer.assignment())}"
        consumer.poll(10, timeout=0.3)


def settled(consumer: BusConsumer) -> bool:
    """Assigned, no join round in flight, and the coordinator answering lag questions. Asked only once
    a rebalance is known to be over: a lag question as a round begins can make the member lose it."""
    if not consumer.assignment() or consumer.joining():
        return False
    try:
        consumer.lag()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def two_members(s: Settings, names: tuple[str, str], *,
                reading: threading.Event | None = None) -> Iterator[tuple[BusConsumer, Peer]]:
    """A member (polled by the test) and a peer of one group, once both hold partitions; both leave after."""
    member = BusConsumer(s, group=s.group, instance_id=names[0])
    peer = Peer(s, names[1], reading=reading)  # a static member, as workers are: its close leaves at once
    try:
        member.subscribe([s.topic])
        peer.start()
        poll_until(member, lambda: settled(member) and bool(peer.consumer.assignment()),
                   "the two members never shared the partitions")
        if reading is not None:  # a poll the peer began before holding could read what the test sends next
            poll_until(member, peer.holding.is_set, "the peer never held its partitions")
        yield member, peer
        assert peer.error is None, peer.error
    finally:
        peer.leave.set()
        peer.join(30)
        member.close()


def test_a_new_assignment_restarts_the_idle_clock(kafka_settings: Settings) -> None:
    s = kafka_settings
    with two_members(s, ("idle-a", "idle-b")) as (member, peer):
        theirs = peer.consumer.assignment()
        clock = Clock()
        idle = IdleWatch(member, s.topic, 10, join_timeout=30, check_every=0, clock=clock)
        assert idle.check() is None  # caught up from t=0 (an empty topic)
        clock.now = 8
        assert idle.check() is None
        before = member.assignments
        peer.leave.set()  # the peer leaves: its partitions are handed to this member at t=8
        poll_until(member, lambda: member.assignments > before and theirs <= member.assignment(),
                   "the peer's partitions never came to this member")  # no lag question meanwhile (see settled)
        poll_until(member, lambda: settled(member), "the member never settled")
        assert idle.check() is None
        clock.now = 12  # 12 s caught up since the first assignment, only 4 since the new one
        assert idle.check() is None
        clock.now = 17.9
        assert idle.check() is None
        clock.now = 18
        verdict = idle.check()
        assert verdict is not None and verdict.reason == "caught up" and verdict.failure is None


def test_the_clock_runs_only_while_the_whole_group_is_caught_up(kafka_settings: Settings) -> None:
    s = kafka_settings
    reading = threading.Event()  # until set, the peer holds its partitions and reads nothing
    with two_members(s, ("idle-c", "idle-d"), reading=reading) as (member, peer):
        (topic, theirs), *_ = sorted(peer.consumer.assignment())
        send_all(s, topic, [(None, f"m{i}".encode()) for i in range(16)], partition=theirs)
        clock = Clock()
        idle = IdleWatch(member, s.topic, 10, join_timeout=30, check_every=0, clock=clock)
        for clock.now in (0, 10, 20, 30):  # this member has nothing to read; the group has 16 messages
            assert member.poll(10, timeout=0.2) == []
            assert idle.check() is None
        reading.set()  # the peer reads and commits them
        deadline = time.monotonic() + 60
        while not idle._caught_up():
            assert time.monotonic() < deadline, "the group never caught up"
            member.poll(10, timeout=0.3)
        clock.now = 31
        assert idle.check() is None
        clock.now = 41
        verdict = idle.check()
        assert verdict is not None and verdict.reason == "caught up"


def test_records_read_restart_the_clock_and_no_partition_is_a_failure(kafka_settings: Settings) -> None:
    s = kafka_settings
    unassigned = BusConsumer(s, group=s.group, instance_id="idle-e")  # never subscribes: no partition
    member = BusConsumer(s, group=s.group + ".2", instance_id="idle-f")
    try:
        clock = Clock()
        idle = IdleWatch(unassigned, s.topic, 10, join_timeout=30, check_every=0, clock=clock)
        clock.now = 39  # session timeout (30) + S (10) not yet over
        assert idle.check() is None
        clock.now = 41
        verdict = idle.check()
        assert verdict is not None and verdict.failure and f"no partition of {s.topic} was assigned" in verdict.failure

        member.subscribe([s.topic])
        poll_until(member, lambda: settled(member), "no partition was assigned")
        clock2 = Clock()
        idle2 = IdleWatch(member, s.topic, 10, join_timeout=30, check_every=0, clock=clock2)
        assert idle2.check() is None
        clock2.now = 9
        idle2.busy()  # a poll returned records
        assert idle2.check() is None
        clock2.now = 18
        assert idle2.check() is None
        clock2.now = 19
        assert idle2.check() is not None
    finally:
        unassigned.close()
        member.close()
