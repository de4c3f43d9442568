"""SQL injection through every `newsstream query` filter: the strings are searched for as text."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.article import Article
from pipeline.records import Extraction
from pipeline.store.models import VIEWS, articles, entities, entity_aliases, events, mentions
from pipeline.store.writer import write_batch
from tests.test_query_api import load
from tests.test_store_writer import V1, entity

INJECTIONS = ["x'; DROP TABLE articles; --", "%' OR '1'='1", "' OR 1=1 --", "lukashenko' OR 'a'='a",
              "\"; DELETE FROM mentions; --", "_", "1) UNION SELECT id, name, label, 1, 1, 1 FROM entities --"]
EVIL_SOURCE = INJECTIONS[0]
EVIL_NAME = "Robert'); DROP TABLE entities; --"

# every filter that takes text, with the rest of the command line it needs
TEXT_FILTERS = [["articles", "--source"], ["articles", "--section"], ["articles", "--text"],
                ["articles", "--entity", "lukashenko", "--label"], ["entities", "--label"], ["events", "--type"],
                ["entity", "lukashenko", "--label"], ["timeline", "lukashenko", "--label"],
                ["cooccurrence", "lukashenko", "--label"], ["cooccurrence", "lukashenko", "--with-label"]]
NAME_FILTERS = [["articles", "--entity"], ["events", "--actor"], ["events", "--target"], ["entity"],
                ["timeline"], ["cooccurrence"]]
DATE_FILTERS = [["articles", "--since"], ["articles", "--until"], ["entities", "--since"], ["events", "--until"],
                ["timeline", "lukashenko", "--since"]]


def evil() -> tuple[Article, Extraction]:
    """An article whose source, text and entity ARE injection strings (they must be found as text)."""
    a = Article.build(body=f"{EVIL_NAME} wrote: 50%' OR '1'='1 is not a number.", title="Little Bobby",
                      url="https://evil.example/1", published="2024-05-01", source=EVIL_SOURCE, section="x")
    return a, Extraction(entities=[entity(a, EVIL_NAME, "PERSON")])


def snapshot(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names()) | set(sa.inspect(conn).get_view_names())
        assert {"articles", "entities", "entity_aliases", "mentions", "events", *VIEWS} <= names
        return {t.name: conn.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (articles, entities, entity_aliases, mentions, events)}


def query(db_url: str, *args: str) -> tuple[int, list | dict | None, str]:
    res = CliRunner().invoke(cli, ["query", *args, "--format", "json", "--database-url", db_url],
                             env={"NEWSSTREAM_LOG_FORMAT": "console"})  # stderr: the readable lines
    return res.exit_code, (json.loads(res.stdout) if res.exit_code == 0 else None), res.stderr


def test_injection_strings_are_plain_text_in_every_filter(engine: sa.Engine, db_url: str) -> None:
    ids = load(engine)
    evil_article, evil_extraction = evil()
    write_batch(engine, [(evil_article, evil_extraction, None)], extractor_version=V1)
    before = snapshot(engine)

    for inj in INJECTIONS:
        for cmd in TEXT_FILTERS:
            code, rows, err = query(db_url, *cmd, inj)
            if cmd[-1] == "--label" and cmd[0] != "entities":  # lukashenko with no such label: unknown
                assert code == 1 and "no entity is called 'lukashenko' with label" in err, (cmd, inj)
                continue
            assert code == 0, (cmd, inj, err)
            found_as_text = ((cmd[1:2] == ["--source"] and inj == EVIL_SOURCE)  # the evil article's source
                             or (cmd[1:2] == ["--text"] and inj == "%' OR '1'='1"))  # in the evil body
            if found_as_text:
                assert [r["id"] for r in rows] == [evil_article.id], (cmd, inj)
            elif cmd[1:2] == ["--text"] and inj == "_":  # only "deal_2" has an underscore
                assert [r["id"] for r in rows] == [ids["markets"]], (cmd, inj)
            else:
                assert rows == [], (cmd, inj, rows)
        for cmd in NAME_FILTERS:
            code, rows, err = query(db_url, *cmd, inj)
            assert code == 1 and rows is None, (cmd, inj)
            assert err == f"newsstream: error: no entity is called {inj!r}" + err.split(repr(inj), 1)[1]
        for cmd in DATE_FILTERS:
            code, rows, err = query(db_url, *cmd, f"2024-01-01{inj}")
            assert code == 2 and "does not match the format" in err, (cmd, inj)  # refused by the option parser
        assert snapshot(engine) == before, inj

    # names that are injection strings work as names
    code, rows, _err = query(db_url, "articles", "--entity", EVIL_NAME.upper())
    assert code == 0 and [r["id"] for r in rows] == [evil_article.id]
    code, prof, _err = query(db_url, "entity", EVIL_NAME)
    assert code == 0 and [e["name"] for e in prof["entities"]] == [EVIL_NAME]
    assert snapshot(engine) == before


@pytest.mark.parametrize("inj", INJECTIONS)
def test_injection_through_the_library_functions(engine: sa.Engine, inj: str) -> None:
    from pipeline.store.query import UnknownEntity, search_articles, search_events, top_entities

    load(engine)
    before = snapshot(engine)
    assert search_articles(engine, source=inj, section=inj) == []
    assert top_entities(engine, label=inj) == []
    assert search_events(engine, type_=inj) == []
    with pytest.raises(UnknownEntity):
        search_articles(engine, entity=inj)
    assert snapshot(engine) == before
