"""Retry with a deadline, capped exponential backoff and full jitter; retriable errors only."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import NewsstreamError

T = TypeVar("T")


def is_retriable(exc: BaseException) -> bool:
    if isinstance(exc, NewsstreamError):
        return exc.retriable
    # A raw database error: worth retrying only when it means "unavailable" (the one list, in
    # pipeline.store.pgerrors); a value too large for an index or a constraint violation is not.
    from pipeline.store.pgerrors import is_unavailable

    return is_unavailable(exc)


def backoff_delays(base: float = 0.2, cap: float = 10.0, rng: random.Random | None = None):
    """Infinite generator of sleep times: full jitter over min(cap, base * 2**n)."""
    rng = rng or random.Random()
    n = 0
    while True:
        yield rng.uniform(0, min(cap, base * (2 ** n)))
        n += 1


def retry(fn: Callable[[], T], *, deadline: float, base: float = 0.2, cap: float = 10.0,
          on_retry: Callable[[BaseException, float, int], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn`` until it succeeds, a non-retriable error is raised, or ``deadline`` seconds pass.

    ``sleep`` waits between attempts (a consumer passes one that keeps polling the group)."""
    end = time.monotonic() + deadline
    for attempt, delay in enumerate(backoff_delays(base, cap), start=1):
        try:
            return fn()
        except BaseException as exc:
            if not is_retriable(exc) or time.monotonic() + delay > end or (should_stop and should_stop()):
                raise
            if on_retry:
                on_retry(exc, delay, attempt)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
