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
    try:  # connection-level database errors are worth retrying; constraint violations are not
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
    except ImportError:  # pragma: no cover
        pass
    return False


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
