"""JSON records of every known shape -> Article fields."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.article import Article
from pipeline.errors import ConfigError, InvalidArticle
from pipeline.parsing import from_record

BODY = "The council of Avonford approved a new bridge on Monday."


def build(record: Any, **kwargs: Any) -> Article:
    return Article.build(**from_record(record, origin="in.jsonl:1", **kwargs))


def test_our_schema_v1_round_trips() -> None:
    record = {"schema_version": 1, "id": "a-1", "title": "Bridge", "body": BODY, "published": "2024-01-02",
              "section": "local", "authors": ["Ana Lima"], "source": "Avonford Post",
              "url": "https://avonford.example/bridge", "language": "en", "dateline": "AVONFORD",
              "lead": "Lead.", "subheadings": ["Sub"], "captions": ["Cap. © x"], "author_code": "al"}
    article = build(record)
    assert article.model_dump() == {k: v for k, v in record.items() if k != "schema_version"}


def test_news_please_record() -> None:
    record = {"id": "np-7", "source_domain": "www.avonford.example", "url": "https://www.avonford.example/a",
              "date_publish": "2017-09-15 08:30:00", "language": None, "title": "Bridge approved",
              "description": "The council said yes.", "maintext": BODY, "authors": ["Ana Lima", "Ben Stone"],
              "newsCluster": {"Category": "local"}, "image_url": None}
    article = build(record)
    assert (article.id, article.title, article.lead, article.body) == ("np-7", "Bridge approved",
                                                                       "The council said yes.", BODY)
    assert article.published == "2017-09-15T08:30:00"
    assert article.source == "www.avonford.example"
    assert article.authors == ["Ana Lima", "Ben Stone"]
    assert article.language is None  # left for the reader's detector
    # older news-please output calls the body "text"
    del record["maintext"]
    assert build({**record, "text": BODY}).body == BODY


def test_bbc_record() -> None:
    article = build({"id": "business/001", "category": "business", "title": "Profits rise", "text": BODY})
    assert (article.id, article.section, article.title, article.body) == ("business/001", "business",
                                                                          "Profits rise", BODY)


def test_reuters_record() -> None:
    record = {"newid": 42, "oldid": 5544, "date": "26-FEB-1987 15:01:01.79&#5;&#5;RM", "topics": ["cocoa"],
              "places": ["usa"], "title": "COCOA REVIEW", "dateline": "SALVADOR, Feb 26 -",
              "body": "Showers continued in the\ncocoa zone, a trader said.\n    Prices rose\nslightly."
                      "\n Reuter\n"}
    article = build(record)
    assert article.id == "reuters-42"
    assert article.published == "1987-02-26T15:01:01.790000"
    assert article.dateline == "SALVADOR"
    assert article.source == "Reuters"
    assert article.body == "Showers continued in the cocoa zone, a trader said.\n\nPrices rose slightly."


def test_generic_keys_and_authors_as_text() -> None:
    article = build({"title": "T", "content": BODY, "date": "2024-03-01T10:00:00Z", "link": "https://x.example/1",
                     "source": "X", "author": "Ana Lima and Ben Stone", "category": "local", "lang": "de"})
    assert article.body == BODY
    assert article.published == "2024-03-01T10:00:00+00:00"
    assert article.authors == ["Ana Lima", "Ben Stone"]
    assert (article.url, article.source, article.section, article.language) == (
        "https://x.example/1", "X", "local", "de")
    assert len(article.id) == 20  # computed stable id


def test_field_map_wins_over_the_defaults_and_extra_keys_are_ignored() -> None:
    record = {"content": BODY, "body": "not this one", "pubDate": "Tue, 05 Mar 2024 09:00:00 GMT",
              "date": "1999-01-01", "guid": 7, "tags": ["a", "b"]}
    article = build(record, field_map={"body": "content", "published": "pubDate", "id": "guid"})
    assert article.body == BODY
    assert article.published == "2024-03-05T09:00:00+00:00"
    assert article.id == "7"


def test_a_field_map_naming_an_unknown_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bodytext"):
        from_record({"body": BODY}, origin="x:1", field_map={"bodytext": "content"})


def test_the_same_article_gets_the_same_id_from_two_formats() -> None:
    ours = build({"body": BODY, "url": "https://avonford.example/a?utm_source=x"})
    theirs = build({"maintext": BODY, "url": "http://www.avonford.example/a/"})
    assert ours.id == theirs.id


@pytest.mark.parametrize(("record", "code"), [
    (["not", "an", "object"], "bad_shape"),
    ("just text", "bad_shape"),
    ({"title": "no body"}, "missing_body"),
    ({"body": None, "title": "null body"}, "missing_body"),
    ({"body": BODY, "published": "the day before yesterday-ish"}, "bad_date"),
    ({"body": BODY, "schema_version": 2}, "bad_schema_version"),
    ({"body": {"html": "<p>x</p>"}}, "invalid_field"),
    ({"body": BODY, "authors": [1, 2]}, "invalid_field"),
])
def test_bad_records_raise_with_a_code_and_the_origin(record: Any, code: str) -> None:
    with pytest.raises(InvalidArticle) as info:
        from_record(record, origin="in.jsonl:9")
    assert (info.value.code, info.value.origin) == (code, "in.jsonl:9")
    assert str(info.value).startswith("in.jsonl:9: ")


def test_blank_optional_fields_count_as_absent() -> None:
    article = build({"body": BODY, "title": "  ", "url": "", "published": "", "section": "local"})
    assert (article.title, article.url, article.published, article.section) == (None, None, None, "local")


@pytest.mark.parametrize(("value", "published"), [
    (1709629200, "2024-03-05T09:00:00+00:00"),
    (1709629200000, "2024-03-05T09:00:00+00:00"),
])
def test_unix_times_in_seconds_or_milliseconds(value: int, published: str) -> None:
    assert build({"body": BODY, "published": value}).published == published


def test_a_unix_time_out_of_range_is_a_bad_date() -> None:
    with pytest.raises(InvalidArticle) as info:
        from_record({"body": BODY, "published": 1e300}, origin="x:3")
    assert info.value.code == "bad_date"
