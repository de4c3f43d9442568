"""`newsstream query ...` on SQLite and PostgreSQL: every command in every format, errors, empties."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.store.query import cooccurrence, entity_profile, search_articles, search_events, timeline, top_entities
from tests.test_query_api import load

# command line -> the same query through the library (the CLI must print exactly these rows)
COMMANDS = {
    "articles": (["articles", "--entity", "lukashenko"], lambda e: search_articles(e, entity="lukashenko")),
    "articles-text": (["articles", "--text", "50%", "--source", "other-wire"],
                      lambda e: search_articles(e, text="50%", source="other-wire")),
    "entities": (["entities", "--top", "3"], lambda e: top_entities(e, top=3)),
    "events": (["events", "--actor", "Lukashenko", "--since", "2024-03-01", "--until", "2024-03-31"],
               lambda e: search_events(e, actor="Lukashenko")),
    "events-type": (["events", "--type", "consult", "--modality", "hypothetical"],
                    lambda e: search_events(e, type_="CONSULT", modality="hypothetical")),
    "cooccurrence": (["cooccurrence", "MINSK"], lambda e: cooccurrence(e, "minsk")),
    "timeline": (["timeline", "lukashenko"], lambda e: timeline(e, "lukashenko")),
}


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["query", *args], prog_name="newsstream",
                              env={"COLUMNS": "200", **(env or {})})


@pytest.fixture
def loaded(engine: sa.Engine, db_url: str) -> str:
    load(engine)
    return db_url


def as_csv_rows(rows: list[dict]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_and_csv_give_the_rows_the_library_returns(name: str, loaded: str, engine: sa.Engine) -> None:
    args, fn = COMMANDS[name]
    expected = fn(engine)
    assert expected, "the example must match something"
    res = invoke(*args, "--format", "json", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == expected
    res = invoke(*args, "--format", "csv", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(res.stdout))) == as_csv_rows(expected)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_shows_every_row_for_a_terminal(name: str, loaded: str, engine: sa.Engine) -> None:
    args, fn = COMMANDS[name]
    expected = fn(engine)
    res = invoke(*args, env={"NEWSSTREAM_DATABASE_URL": loaded})  # the env var works as well as the flag
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert any(c in lines[0] + lines[1] for c in ("articles", "entities", "events", "per day"))  # a title
    for row in expected:  # each row on a line of its own, values in order
        first, second = [str(v) for v in row.values() if v is not None][:2]
        assert any(first in ln and second in ln.split(first, 1)[1] for ln in lines), (row, res.stdout)
    assert len([ln for ln in lines if ln.startswith("│")]) == len(expected)


def test_entity_profile_in_every_format(loaded: str, engine: sa.Engine) -> None:
    expected = entity_profile(engine, "lukashenko")
    res = invoke("entity", "LUKASHENKO", "--format", "json", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {**expected, "query": "LUKASHENKO"}

    res = invoke("entity", "lukashenko", "--format", "csv", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    blocks = {b.split("\n", 1)[0]: list(csv.DictReader(io.StringIO(b.split("\n", 1)[1])))
              for b in res.stdout.strip().split("\n\n")}
    assert list(blocks) == ["# entities", "# aliases", "# timeline", "# cooccurring", "# recent_events"]
    assert blocks["# entities"][0]["name"] == "Alexander Lukashenko"
    assert {r["alias"] for r in blocks["# aliases"]} == {"alexander lukashenko", "lukashenko"}
    assert blocks["# timeline"] == [{"day": "2024-03-01", "mentions": "2", "articles": "1"},
                                    {"day": "2024-03-04", "mentions": "1", "articles": "1"}]
    assert [r["type"] for r in blocks["# recent_events"]] == ["THREATEN", "CONSULT"]

    res = invoke("entity", "lukashenko", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    for text in ("Alexander Lukashenko", "aliases", "mentions per day", "2024-03-04", "in the same articles",
                 "Zelensky", "recent events", "THREATEN"):
        assert text in res.stdout


@pytest.mark.parametrize("args", [["entity", "Atlantis"], ["timeline", "atlantis"], ["cooccurrence", "Atlantis"],
                                  ["articles", "--entity", "Atlantis"], ["events", "--actor", "Atlantis"],
                                  ["events", "--target", "Atlantis"], ["timeline", "minsk", "--label", "PERSON"]],
                         ids=" ".join)
def test_an_unknown_name_is_one_line_on_stderr_and_exit_1(args: list[str], loaded: str) -> None:
    for fmt in ("table", "json", "csv"):
        res = invoke(*args, "--format", fmt, "--database-url", loaded)
        assert res.exit_code == 1
        assert res.stdout == ""
        assert res.stderr.startswith("newsstream: error: no entity is called '")
        assert res.stderr.count("\n") == 1


def test_no_match_is_an_empty_result_and_a_note(loaded: str) -> None:
    res = invoke("articles", "--text", "no such words", "--format", "json", "--database-url", loaded)
    assert (res.exit_code, json.loads(res.stdout), res.stderr) == (0, [], "no articles match\n")
    res = invoke("events", "--since", "2030-01-01", "--format", "csv", "--database-url", loaded)
    assert res.exit_code == 0
    assert res.stdout.splitlines() == ["published,type,actor,trigger,target,location,event_date,modality,"
                                       "negated,article_id"]
    res = invoke("entities", "--label", "LAW", "--database-url", loaded)
    assert res.exit_code == 0 and "no entities match" in res.stderr


def test_bad_input_is_refused_before_any_sql(loaded: str) -> None:
    res = invoke("articles", "--since", "March 1st", "--database-url", loaded)
    assert res.exit_code == 2 and "'--since'" in res.stderr and "does not match the format" in res.stderr
    res = invoke("events", "--since", "2024-04-01", "--until", "2024-03-01", "--database-url", loaded)
    assert res.exit_code == 1 and "the period is empty" in res.stderr


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    res = invoke("entities", "--database-url", f"sqlite:///{path}")
    assert res.exit_code == 1 and "no database at" in res.stderr
    assert not path.exists()
