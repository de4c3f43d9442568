"""Retry: retriable errors only, capped exponential backoff with jitter, bounded by a deadline."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import DatabaseUnavailable, InvalidArticle
from pipeline.retry import backoff_delays, is_retriable, retry


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


# -- the one list of PostgreSQL errors that mean "unavailable" (pipeline/store/pgerrors.py) ----------

UNAVAILABLE = ["08000", "08003", "08006", "08001", "08004", "08P01", "53100", "53200", "53300", "58030",
               "25006", "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "57P05"]
NOT_UNAVAILABLE = ["54000", "54001", "22001", "22P02", "22012", "23505", "23503", "42P01", "42601", "42703",
                   "XX000", "0A000"]


@pytest.mark.parametrize("code", UNAVAILABLE)
def test_codes_of_the_list_mean_unavailable(code: str) -> None:
    from pipeline.store.pgerrors import means_unavailable

    assert means_unavailable(code)


@pytest.mark.parametrize("code", NOT_UNAVAILABLE)
def test_the_data_or_the_statement_is_not_an_outage(code: str) -> None:
    from pipeline.store.pgerrors import is_item_error, means_unavailable

    assert not means_unavailable(code)
    assert is_item_error(code) == (code[:2] in ("22", "23", "54"))


@pytest.mark.postgres
def test_real_postgresql_errors_are_classed_by_the_list(pg_server) -> None:
    """What the server really raises: an outage is retried, a refusal of the data is not."""
    import sqlalchemy as sa

    from pipeline.store.db import make_engine
    from pipeline.store.pgerrors import sqlstate
    from tests.test_store_db import closed_port

    def raised(url: str, *sql: str) -> BaseException:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                for statement in sql:
                    conn.execute(sa.text(statement))
        except sa.exc.DBAPIError as exc:
            return exc
        finally:
            engine.dispose()
        raise AssertionError(f"{sql} did not fail")

    url = pg_server.url()
    down = raised(f"postgresql+psycopg://x@127.0.0.1:{closed_port()}/x", "SELECT 1")
    killed = raised(url, "SELECT pg_terminate_backend(pg_backend_pid())")
    timeout = raised(url, "SET statement_timeout = 50", "SELECT pg_sleep(2)")
    too_big = raised(url, "CREATE TEMP TABLE t (v text)", "CREATE INDEX ON t (v)",
                     "INSERT INTO t SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400)")
    division = raised(url, "SELECT 1 / 0")
    assert (sqlstate(killed), sqlstate(timeout), sqlstate(too_big), sqlstate(division)) == (
        "57P01", "57014", "54000", "22012")
    assert is_retriable(down) and is_retriable(killed) and is_retriable(timeout)
    assert not is_retriable(too_big) and not is_retriable(division)
