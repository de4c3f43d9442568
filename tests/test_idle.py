"""`--until-idle S` (consumers/idle.py): a worker stops once the group is caught up for S seconds,
and a new partition assignment starts that clock again (issue 18.1)."""

from __future__ import annotations

from consumers.idle import IdleWatch

Partition = tuple[str, int]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Member:
    """What IdleWatch reads of a group member (BusConsumer's attributes and lag methods), set by hand."""

    def __init__(self) -> None:
        self.ever_assigned = False
        self.assignments = 0
        self.own: dict[Partition, int] = {}
        self.group: dict[Partition, int] = {}

    def assign(self, *partitions: int) -> None:
        self.ever_assigned = True
        self.assignments += 1
        self.own.update({("t", p): 0 for p in partitions})

    def lag(self) -> dict[Partition, int]:
        return dict(self.own)

    def group_lag(self, topic: str) -> dict[Partition, int]:
        return dict(self.group)


def watch(member: Member, clock: Clock, seconds: float = 10) -> IdleWatch:
    return IdleWatch(member, "t", seconds, join_timeout=30, check_every=0, clock=clock)


def test_a_new_assignment_restarts_the_idle_clock() -> None:
    member, clock = Member(), Clock()
    idle = watch(member, clock)
    member.assign(0)
    assert idle.check() is None  # caught up from t=0
    clock.now = 8
    assert idle.check() is None
    member.assign(1)  # a rebalance hands this worker another partition at t=8
    assert idle.check() is None
    clock.now = 12  # 12 s caught up since the first assignment, only 4 since the new one
    assert idle.check() is None
    clock.now = 17.9
    assert idle.check() is None
    clock.now = 18
    verdict = idle.check()
    assert verdict is not None and verdict.reason == "caught up" and verdict.failure is None


def test_the_clock_runs_only_while_the_whole_group_is_caught_up() -> None:
    member, clock = Member(), Clock()
    idle = watch(member, clock)
    member.assign(0)
    member.group = {("t", 0): 0, ("t", 1): 16}  # a peer still holds 16 unread messages
    for clock.now in (0, 10, 20, 30):
        assert idle.check() is None
    member.group = {("t", 0): 0, ("t", 1): 0}
    clock.now = 31
    assert idle.check() is None
    clock.now = 41
    assert idle.check() is not None


def test_records_read_restart_the_clock_and_no_partition_is_a_failure() -> None:
    member, clock = Member(), Clock()
    idle = watch(member, clock)
    clock.now = 39  # session timeout (30) + S (10) not yet over
    assert idle.check() is None
    clock.now = 41
    verdict = idle.check()
    assert verdict is not None and verdict.failure and "no partition of t was assigned" in verdict.failure

    member2, clock2 = Member(), Clock()
    idle2 = watch(member2, clock2)
    member2.assign(0)
    assert idle2.check() is None
    clock2.now = 9
    idle2.busy()  # a poll returned records
    assert idle2.check() is None
    clock2.now = 18
    assert idle2.check() is None
    clock2.now = 19
    assert idle2.check() is not None
