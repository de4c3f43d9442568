"""`newsstream query ...` on SQLite and PostgreSQL: every command in every format, errors, empties."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from newsstream_cli.main import cli
from pipeline.store.query import cooccurrence, entity_profile, search_articles, search_events, timeline, top_entities
from tests.test_query_api import LONG_IDS, load, load_twins

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
    """The readable stderr lines, as on a terminal (off one they are JSON: tests/test_stderr_structured.py)."""
    return CliRunner().invoke(cli, ["query", *args], prog_name="newsstream",
                              env={"COLUMNS": "200", "NEWSSTREAM_LOG_FORMAT": "console", **(env or {})})


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
    assert list(blocks) == ["# entities", "# aliases", "# label_history", "# merges", "# timeline", "# cooccurring",
                            "# recent_events"]  # 0008: the label history and the merges
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
                                       "negated,article_id,country,sentence,family,actor_sector,target_sector,"
                                       "source,quote"]  # 0007's columns come last
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
    assert res.exit_code == 2 and "no database at" in res.stderr  # a setting to fix: a usage error
    assert not path.exists()


# -- output a person can read (issue 18) -----------------------------------------------------------


def table_rows(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln.startswith("│")]


def test_events_fit_100_columns_with_short_ids(loaded: str, engine: sa.Engine) -> None:
    load_twins(engine)  # two 56-character ids sharing 10 characters
    expected = search_events(engine)
    res = invoke("events", "--database-url", loaded, env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 100
    assert len(table_rows(res.stdout)) <= 2 * len(expected)  # no row over more than two lines
    shown = [ln.split("│")[-2].strip() for ln in table_rows(res.stdout)]  # the last column: the article
    short = {i: "feedface00a" if i == LONG_IDS["twin_a"] else "feedface00b" if i == LONG_IDS["twin_b"] else i[:8]
             for i in {r["article_id"] for r in expected}}  # 8 characters, more where two ids share them
    assert [s for s in shown if s] == [short[r["article_id"]] for r in expected]
    assert not any(i in res.stdout for i in short)  # no whole id
    # json and csv keep the whole ids
    res = invoke("events", "--format", "json", "--database-url", loaded)
    assert {r["article_id"] for r in json.loads(res.stdout)} >= set(LONG_IDS.values())
    res = invoke("events", "--format", "csv", "--database-url", loaded)
    assert {r["article_id"] for r in csv.DictReader(io.StringIO(res.stdout))} >= set(LONG_IDS.values())
    res = invoke("articles", "--database-url", loaded, env={"COLUMNS": "100"})
    assert "feedface00a " in res.stdout and LONG_IDS["twin_a"] not in res.stdout


def test_query_article_takes_a_shown_prefix(loaded: str, engine: sa.Engine) -> None:
    load_twins(engine)
    res = invoke("article", "feedface00b", "--database-url", loaded, env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    for text in (LONG_IDS["twin_b"], "long-wire", "https://long.example/twin_b", "entities", "Minsk", "events",
                 "PROTEST", "blocked", "story "):
        assert text in res.stdout
    res = invoke("article", LONG_IDS["twin_a"], "--format", "json", "--database-url", loaded)
    d = json.loads(res.stdout)
    assert d["article"]["id"] == LONG_IDS["twin_a"] and d["events"][0]["article_id"] == LONG_IDS["twin_a"]
    assert d["entities"][0]["name"] == "Minsk" and d["story"]["id"] == d["article"]["story_id"]
    assert d["events"][0]["sentence"] == "Protesters in Minsk blocked the twin_a road."
    res = invoke("article", "feedface00a", "--format", "csv", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    blocks = {b.split("\n", 1)[0]: list(csv.DictReader(io.StringIO(b.split("\n", 1)[1])))
              for b in res.stdout.strip().split("\n\n")}
    assert list(blocks) == ["# article", "# entities", "# events", "# story"]
    assert blocks["# article"][0]["id"] == LONG_IDS["twin_a"]
    assert blocks["# events"][0]["article_id"] == LONG_IDS["twin_a"]


def test_an_ambiguous_prefix_is_an_error_listing_the_candidates(loaded: str, engine: sa.Engine) -> None:
    load_twins(engine)
    res = invoke("article", "feedface", "--database-url", loaded)
    assert res.exit_code == 1 and res.stdout == ""
    assert "newsstream: error: the id prefix 'feedface' is ambiguous" in res.stderr
    assert LONG_IDS["twin_a"] in res.stderr and LONG_IDS["twin_b"] in res.stderr
    res = invoke("article", "feedf", "--database-url", loaded)
    assert res.exit_code == 1 and "at least 6 characters" in res.stderr
    res = invoke("article", "0000000", "--database-url", loaded)
    assert res.exit_code == 1 and "no article id starts with '0000000'" in res.stderr


def test_events_show_their_sentence(loaded: str, engine: sa.Engine) -> None:
    sentence = "Lukashenko warned Kyiv on Monday."
    res = invoke("events", "--actor", "lukashenko", "--format", "json", "--database-url", loaded)
    assert json.loads(res.stdout)[0]["sentence"] == sentence
    res = invoke("events", "--actor", "lukashenko", "--format", "csv", "--database-url", loaded)
    assert next(csv.DictReader(io.StringIO(res.stdout)))["sentence"] == sentence
    res = invoke("events", "--actor", "lukashenko", "--database-url", loaded)
    assert sentence not in res.stdout  # a table fits a terminal...
    res = invoke("events", "--actor", "lukashenko", "--wide", "--database-url", loaded)
    assert res.exit_code == 0 and "sentence" in res.stdout and sentence in res.stdout  # ...unless --wide


def test_timeline_shows_undated_mentions(loaded: str) -> None:
    res = invoke("timeline", "minsk", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    undated = [ln for ln in table_rows(res.stdout) if "undated" in ln]
    assert len(undated) == 1 and undated[0].split("│")[2:4] == [" 1        ", " 1        "]
    res = invoke("timeline", "minsk", "--format", "json", "--database-url", loaded)
    assert len(json.loads(res.stdout)) == 2  # the dated days only...
    assert "not in the timeline: 1 mentions in 1 articles without a publication date" in res.stderr  # ...and a note
    res = invoke("entity", "minsk", "--database-url", loaded)
    assert "undated" in res.stdout
    res = invoke("timeline", "minsk", "--since", "2024-01-01", "--database-url", loaded)
    assert "undated" not in res.stdout and res.stderr == ""  # undated articles are in no period
    res = invoke("timeline", "lukashenko", "--format", "csv", "--database-url", loaded)
    assert res.stderr == ""


def test_an_unknown_event_type_lists_the_valid_ones(loaded: str) -> None:
    res = invoke("events", "--type", "FOO", "--database-url", loaded)
    assert res.exit_code == 0
    assert "no events match: 'FOO' is not an event type" in res.stderr
    for known in ("ACCUSE", "ASSAULT", "PROTEST", "THREATEN", "OTHER"):  # the lexicon's (plover.json)
        assert known in res.stderr
    assert "in the database: CONSULT (2), PROTEST (1), REJECT (1), THREATEN (1)" in res.stderr
    res = invoke("events", "--type", "assault", "--format", "json", "--database-url", loaded)
    assert json.loads(res.stdout) == []
    assert "is not an event type" not in res.stderr and "in the database: CONSULT (2)" in res.stderr


@pytest.mark.parametrize("path,hint", [("/tmp/x.db", "sqlite:////tmp/x.db"), ("x.db", "sqlite:///x.db")])
def test_a_file_path_for_the_database_url_hints_at_sqlite(path: str, hint: str) -> None:
    res = invoke("entities", "--database-url", path)
    assert res.exit_code == 2
    assert res.stderr.startswith("newsstream: configuration error: invalid database URL")
    assert hint in res.stderr and "Traceback" not in res.stderr


def test_help_shows_dates_as_yyyy_mm_dd() -> None:
    for command in ("events", "articles", "entities", "timeline", "stories"):
        res = invoke(command, "--help")
        assert res.exit_code == 0
        assert "--since YYYY-MM-DD" in res.stdout and "--until YYYY-MM-DD" in res.stdout
        assert "%Y" not in res.stdout
