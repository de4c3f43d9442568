"""The Article's fields are listed once (the model, with FIELD_META beside it); everything else agrees."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from pipeline.article import CONTRACT_FIELDS, FIELD_META, FIELDS, LIST_FIELDS, STORED_FIELDS, Article, encode

ROOT = Path(__file__).resolve().parent.parent
ENVELOPE = {"schema_version"}  # in every message, not a field of the Article


def readme_schema_fields() -> set[str]:
    """The names in the first column of README's "Message schema v1" table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text[text.index("## Message schema v1"):].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| field |"))
    names: set[str] = set()
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        names |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return names


def test_metadata_has_one_row_per_field_in_the_model_order() -> None:
    assert list(FIELD_META) == list(Article.model_fields) == list(FIELDS)
    assert all(meta.keys and meta.keys[0] == name for name, meta in FIELD_META.items())  # our key first


def test_readme_schema_table_lists_exactly_the_model_fields() -> None:
    assert readme_schema_fields() == set(FIELDS) | ENVELOPE


def test_articles_table_has_a_column_for_every_stored_field(tmp_path: Path) -> None:
    from pipeline.store.db import upgrade
    from pipeline.store.models import articles

    assert set(STORED_FIELDS) <= set(articles.c.keys())
    url = f"sqlite:///{tmp_path / 'fields.db'}"
    upgrade(url)
    migrated = {c["name"] for c in sa.inspect(sa.create_engine(url)).get_columns("articles")}
    assert set(STORED_FIELDS) <= migrated, set(STORED_FIELDS) - migrated


def test_derived_lists() -> None:
    from newsstream_cli.extract_cmd import ARTICLE_KEYS
    from pipeline.parsing.jsonrecords import DEFAULT_KEYS
    from pipeline.store.stored import ARTICLE_FIELDS

    assert LIST_FIELDS == ("authors", "subheadings", "captions")
    assert ARTICLE_KEYS == CONTRACT_FIELDS == ("id", "title", "published", "section", "authors", "source",
                                               "url", "language", "dateline")  # the contract's shape is stable
    assert set(DEFAULT_KEYS) == set(FIELDS) and ARTICLE_FIELDS == STORED_FIELDS


def test_the_writer_stores_every_field_and_reprocessing_reads_them_back(tmp_path: Path) -> None:
    from pipeline.records import Extraction
    from pipeline.store.db import upgrade
    from pipeline.store.stored import iter_articles
    from pipeline.store.writer import write_batch

    values = {"id": "a1", "title": "T", "body": "Text.", "published": "2024-03-12", "section": "politics",
              "authors": ["Ann Lee"], "source": "x.org", "url": "https://x.org/1", "language": "en",
              "dateline": "MINSK", "lead": "Lead.", "subheadings": ["Sub"], "captions": ["Cap"],
              "author_code": "erpe"}
    assert set(values) == set(FIELDS)
    article = Article(**values)
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    stats = write_batch(engine, [(article, Extraction(), None)], extractor_version="test")
    assert stats.articles == 1 and not stats.rejected
    [(back, _position)] = list(iter_articles(engine))
    assert back == article and encode(back) == encode(article)
