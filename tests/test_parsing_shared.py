"""The real datasets in ../shared/data read through read_articles (skipped when absent)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.article import Article
from pipeline.parsing import Rejected, read_articles
from tests.conftest import shared_path

pytestmark = pytest.mark.shared


def test_all_news_please_records_become_articles_keyed_by_their_id() -> None:
    path = shared_path("newsplease", "articles.jsonl")
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    items = list(read_articles([str(path)]))
    assert len(items) == len(records) == 410
    assert not [i for i in items if isinstance(i, Rejected)]
    for record, article in zip(records, items, strict=True):
        assert isinstance(article, Article)
        assert article.id == record["id"]
        assert article.title == record["title"]
        assert article.lead == record["description"]
        assert article.url == record["url"]
        assert article.published == record["date_publish"]
        if record["language"]:  # declared language wins, even when it is wrong (two English "de")
            assert article.language == record["language"]
    languages = Counter(a.language for a in items)
    assert languages["de"] == 2
    assert languages["en"] >= 400


def test_all_bbc_records_become_articles() -> None:
    path = shared_path("bbc", "bbc.jsonl")
    items = list(read_articles([str(path)]))
    assert len(items) == 2225
    assert all(isinstance(i, Article) for i in items)
    assert Counter(a.section for a in items) == {"sport": 511, "business": 510, "politics": 417,
                                                 "tech": 401, "entertainment": 386}
    assert items[0].id == "business/001"
    assert sum(a.language == "en" for a in items) >= 2220


@pytest.mark.slow
def test_reuters_articles_and_why_the_rest_are_rejected() -> None:
    path = shared_path("reuters", "reuters21578.jsonl")
    counts: Counter[str] = Counter()
    bad_dates = []
    for item in read_articles([str(path)]):
        counts["article" if isinstance(item, Article) else item.code] += 1
        if isinstance(item, Rejected) and item.code == "bad_date":
            bad_dates.append(item.origin)
    assert counts == {"article": 19042, "missing_body": 2535, "bad_date": 1}
    assert bad_dates == [f"{path}:17192"]  # "31-MAR-1987 605:12:19.12": hour 605
