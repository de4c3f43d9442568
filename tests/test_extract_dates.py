"""Date normalisation against the publication date (no model needed)."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.extract.dates import normalize_date

MONDAY = date(2024, 3, 11)  # a Monday


@pytest.mark.parametrize(("text", "expected"), [
    ("Friday (March 8)", "2024-03-08"),      # explicit day and month
    ("Friday (March 1)", "2024-03-01"),      # ... beat the weekday when they disagree
    ("March 8, 2021", "2021-03-08"),
    ("8 March", "2024-03-08"),
    ("2023-12-24", "2023-12-24"),
    ("Friday", "2024-03-08"),                # the last Friday on or before publication
    ("Thursday evening", "2024-03-07"),
    ("last Monday", "2024-03-04"),           # "last" never means the publication day itself
    ("Monday", "2024-03-11"),
    ("yesterday", "2024-03-10"),
    ("tomorrow", "2024-03-12"),
    ("last week", "2024-03-04"),
    ("three days ago", "2024-03-08"),
    ("two weeks ago", "2024-02-26"),
])
def test_dates_relative_to_publication(text: str, expected: str) -> None:
    assert normalize_date(text, MONDAY) == expected


def test_future_clause_takes_the_next_weekday() -> None:
    assert normalize_date("Friday", MONDAY, future=True) == "2024-03-15"
    assert normalize_date("next Friday", MONDAY) == "2024-03-15"


def test_month_day_without_year_in_january_means_last_december() -> None:
    assert normalize_date("December 30", date(2024, 1, 4)) == "2023-12-30"
    assert normalize_date("January 2", date(2024, 1, 4)) == "2024-01-02"


@pytest.mark.parametrize("text", ["March", "2019", "recently", "this year", "just a week", "the 1990s"])
def test_vague_expressions_give_no_day(text: str) -> None:
    assert normalize_date(text, MONDAY) is None


def test_without_publication_date_only_full_dates_resolve() -> None:
    assert normalize_date("Friday", None) is None
    assert normalize_date("yesterday", None) is None
    assert normalize_date("June 30, 2023", None) == "2023-06-30"


def test_impossible_dates_are_rejected() -> None:
    assert normalize_date("February 30", MONDAY) is None
