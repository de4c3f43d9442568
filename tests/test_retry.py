"""Retry: retriable errors only, capped exponential backoff with jitter, bounded by a deadline."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import DatabaseUnavailable, InvalidArticle
from pipeline.retry import backoff_delays, retry


def test_backoff_is_capped_and_jittered() -> None:
    gen = backoff_delays(base=0.1, cap=1.0, rng=random.Random(3))
    delays = [next(gen) for _ in range(12)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert len(set(delays)) == len(delays)
    assert max(delays[6:]) > 0.2  # grows beyond the base before the cap


def test_retriable_error_is_retried_until_success() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise DatabaseUnavailable("db down")
        return "ok"

    seen = []
    assert retry(flaky, deadline=10, base=0.001, on_retry=lambda e, d, n: seen.append(n)) == "ok"
    assert len(calls) == 3 and seen == [1, 2]


def test_non_retriable_error_is_raised_at_once() -> None:
    calls = []

    def bad() -> None:
        calls.append(1)
        raise InvalidArticle("bad", code="x")

    with pytest.raises(InvalidArticle):
        retry(bad, deadline=10, base=0.001)
    assert len(calls) == 1


def test_deadline_bounds_the_retries() -> None:
    def down() -> None:
        raise DatabaseUnavailable("still down")

    with pytest.raises(DatabaseUnavailable):
        retry(down, deadline=0.05, base=0.01, cap=0.02)
