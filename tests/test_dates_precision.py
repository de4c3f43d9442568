"""Publication dates: stored with the precision they have, never invented; time zone names read or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.article import Article, normalize_published
from pipeline.parsing import Rejected, read_articles


def published(tmp_path: Path, value: object) -> Article | Rejected:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"body": "The council approved the bridge.", "published": value}) + "\n")
    (item,) = read_articles([str(path)])
    return item


@pytest.mark.parametrize(("value", "what"), [("2024", "year only"), ("March 2024", "year and month only"),
                                              ("Tuesday", "no calendar date"), ("12 March", "month and day only"),
                                              ("2024-03", "year and month only")])
def test_a_date_that_names_no_day_is_rejected_not_invented(tmp_path: Path, value: str, what: str) -> None:
    item = published(tmp_path, value)
    assert isinstance(item, Rejected) and item.code == "bad_date", item
    assert repr(value) in item.reason and what in item.reason


@pytest.mark.parametrize(("value", "iso"), [
    ("12 March 2024", "2024-03-12"),  # a day and no time: a date, not midnight
    ("March 12, 2024 10:30", "2024-03-12T10:30:00"),
    ("2024-03-12 10:00 EST", "2024-03-12T10:00:00-05:00"),
    ("Tue, 12 Mar 2024 10:00:00 PDT", "2024-03-12T10:00:00-07:00"),
    ("2024-07-12 10:00 CEST", "2024-07-12T10:00:00+02:00"),
    ("2024-07-12 10:00 GMT+3", "2024-07-12T10:00:00+03:00"),
    ("2024-07-12 10:00 Europe/Berlin", "2024-07-12T10:00:00+02:00"),
    ("2024-01-12 10:00 Europe/Berlin", "2024-01-12T10:00:00+01:00"),
    ("2024-03-12T10:00:00Z", "2024-03-12T10:00:00+00:00"),
])
def test_dates_and_time_zones_are_read(tmp_path: Path, value: str, iso: str) -> None:
    item = published(tmp_path, value)
    assert isinstance(item, Article) and item.published == iso


@pytest.mark.parametrize(("value", "why"), [("2024-03-12 10:00 XYZ", "time zone 'XYZ' is not known"),
                                             ("2024-03-12 10:00 IST", "ambiguous"),
                                             ("2024-03-12 10:00 Mars/Olympus", "time zone 'Mars/Olympus'"),
                                             ("2024-02-30", "day is out of range"),
                                             ("9" * 500, "too long to be a date")])
def test_an_unreadable_zone_or_date_is_refused_with_the_reason(tmp_path: Path, value: str, why: str) -> None:
    item = published(tmp_path, value)
    assert isinstance(item, Rejected) and item.code == "bad_date" and why in item.reason, item


def test_which_of_day_and_month_comes_first_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize_published("03/04/2024") == "2024-03-04"
    assert normalize_published("03/04/2024", day_first=True) == "2024-04-03"
    assert normalize_published("2024-03-04", day_first=True) == "2024-03-04"  # ISO is never ambiguous
    monkeypatch.setenv("NEWSSTREAM_DATE_DAY_FIRST", "true")
    item = published(tmp_path, "03/04/2024")
    assert isinstance(item, Article) and item.published == "2024-04-03"
    from pipeline.config import load_settings

    assert load_settings().date_day_first is True


def test_the_article_model_refuses_an_imprecise_date_too() -> None:
    from pipeline.errors import InvalidArticle

    with pytest.raises(InvalidArticle) as caught:
        Article.build(body="Text.", published="2024")
    assert caught.value.code == "bad_date"
