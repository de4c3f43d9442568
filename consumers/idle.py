"""`--until-idle S`: when a worker may stop because there is nothing left for it to do.

Idle means caught up, not merely quiet: the worker has owned partitions, and for ``S`` seconds
it read nothing while the group as a whole had nothing left to read (lag 0 on every partition of
the topic, so partitions handed to this worker late, or still held by a busy peer, keep it going).
A new assignment restarts the clock. A worker given no partition within the session timeout
plus ``S`` stops with a failure saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    reason: str
    failure: str | None = None


class IdleWatch:
    def __init__(self, consumer: Any, topic: str, seconds: float | None, *, join_timeout: float,
                 check_every: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.consumer = consumer
        self.topic = topic
        self.seconds = seconds
        self.join_timeout = join_timeout
        self.check_every = check_every
        self.clock = clock
        self.started = clock()
        self._caught_up_since: float | None = None
        self._last_check = -float("inf")
        self._assignments = 0

    def busy(self) -> None:
        """Records were read: not idle."""
        self._caught_up_since = None

    def check(self) -> Verdict | None:
        """Called when a poll returned nothing: a Verdict when the worker should stop, else None."""
        if self.seconds is None:
            return None
        now = self.clock()
        if not self.consumer.ever_assigned:
            if now - self.started > self.join_timeout + self.seconds:
                return Verdict("no partition", failure=(
                    f"no partition of {self.topic} was assigned to this worker within "
                    f"{self.join_timeout + self.seconds:.0f}s (the group has more workers than partitions, "
                    "or the broker is unreachable)"))
            return None
        if self.consumer.assignments != self._assignments:  # partitions (re)assigned: start again
            self._assignments = self.consumer.assignments
            self._caught_up_since = None
        if now - self._last_check >= self.check_every:
            self._last_check = now
            if not self._caught_up():
                self._caught_up_since = None
                return None
            if self._caught_up_since is None:
                self._caught_up_since = now
        if self._caught_up_since is not None and now - self._caught_up_since >= self.seconds:
            return Verdict("caught up")
        return None

    def _caught_up(self) -> bool:
        try:
            own = self.consumer.lag()
            group = self.consumer.group_lag(self.topic)
        except Exception:  # the broker is away: not known to be caught up
            return False
        return not any(own.values()) and not any(group.values())
