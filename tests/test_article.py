"""Message schema v1, stable ids and the validation every source shares."""

from __future__ import annotations

import json
import random

import pytest

from pipeline.article import SCHEMA_VERSION, Article, article_id, decode, encode, normalize_url
from pipeline.errors import InvalidArticle


def test_same_url_gives_same_id_whatever_the_tracking_noise() -> None:
    a = article_id(url="https://www.Example.com/news/story-1/?utm_source=x#top", source=None, title="A", body="x")
    b = article_id(url="http://example.com/news/story-1", source="other", title="B", body="y")
    assert a == b
    assert a != article_id(url="https://example.com/news/story-2", source=None, title="A", body="x")


def test_without_url_id_follows_source_title_and_body_ignoring_whitespace() -> None:
    a = article_id(url=None, source="dpa", title="Storm  hits coast", body="Winds rose.\n\nPeople left.")
    assert a == article_id(url=None, source="DPA", title="Storm hits coast", body="Winds rose. People left.")
    assert a != article_id(url=None, source="dpa", title="Storm hits coast", body="Winds fell.")


def test_normalize_url_keeps_meaningful_query_parameters() -> None:
    assert normalize_url("https://x.org/a?id=7&utm_medium=rss") == "https://x.org/a?id=7"


def test_plain_urls_get_the_same_id_on_the_fast_path_as_through_urlsplit() -> None:
    from pipeline.article import _PLAIN_URL, _normalize_parsed

    rng = random.Random(16)
    chars = "abcXY09.-/:@%~!$&'()*+,;=_?# "
    urls = ["http://WWW.X.org/a/b//", "https://x.org", "https://x.org/a%20b/", "https://x.org/a:b@c/d",
            " https://x.org/a \n", "HTTPS://x.org/a", "https://x.org:8080/a", "https://x.org/a?utm_source=x"]
    urls += ["http" + rng.choice(["", "s"]) + "://" + "".join(rng.choice(chars) for _ in range(rng.randint(0, 14)))
             for _ in range(20_000)]
    fast = 0
    for url in urls:
        fast += bool(_PLAIN_URL.fullmatch(url.strip()))
        try:
            expected = _normalize_parsed(url.strip())
        except ValueError:  # urlsplit refuses it (a bad port): so must the fast path
            with pytest.raises(ValueError):
                normalize_url(url)
            continue
        assert normalize_url(url) == expected, url
    assert fast > 500  # the fast path was taken, and agreed
    assert normalize_url("http://WWW.X.org/a/b//") == "https://x.org/a/b"


def test_encode_decode_round_trip_carries_schema_version_and_every_field() -> None:
    art = Article.build(body="Ministers met in Oslo.", title="Talks", published="2024-02-01", section="world",
                        authors=["Ann Lee"], source="wire", url="https://wire.example/talks", language="en")
    raw = encode(art)
    data = json.loads(raw)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["id"] == art.id
    assert decode(raw) == art


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_shape"),
        (b'{"schema_version": 9, "id": "x", "body": "b"}', "bad_schema_version"),
        (b'{"schema_version": 1, "id": "x"}', "missing_body"),
        (b'{"schema_version": 1, "id": "x", "body": "   "}', "empty_body"),
        (b"\xff\xfe\x00garbage", "bad_encoding"),
        (b'{"schema_version": 1, "id": "x", "body": "b", "published": "the day after"}', "bad_date"),
        (None, "no_value"),
    ],
)
def test_decode_rejects_bad_messages_with_a_reason_code_and_origin(value: bytes | None, code: str) -> None:
    with pytest.raises(InvalidArticle) as info:
        decode(value, origin="news[0]@17")
    assert info.value.code == code
    assert str(info.value).startswith("news[0]@17: ")


def test_body_over_the_size_limit_is_refused() -> None:
    with pytest.raises(InvalidArticle) as info:
        Article.build(body="x" * 101, max_body_bytes=100)
    assert info.value.code == "body_too_large"


def test_published_dates_are_normalised_to_iso() -> None:
    assert Article.build(body="b", published="2017-09-15T00:00:00").published == "2017-09-15T00:00:00"
    assert Article.build(body="b", published="26-FEB-1987 15:01:01").published == "1987-02-26T15:01:01"
    assert Article.build(body="b", published="2023-07-03").published_date.isoformat() == "2023-07-03"
