"""Issue 17.4: `--format table|json|csv` on every command that prints data, closing summaries included, and
`--log-level` / `--log-format` on every long-running command. The command tree is walked, so a new
command without them fails here; the summaries of `summary` and `reprocess` run on SQLite."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from newsstream_cli.main import cli
from tests.test_cli_help import _commands

# end with a closing summary: --format text (the default line) | table | json | csv
SUMMARIES = {("produce",), ("serve-ingest",), ("consume",), ("reprocess",), ("dlq", "replay")}
# print rows: --format table | json | csv (query events adds geojson)
DATA = {("summary",), ("config",), ("topics", "list"), ("dlq", "list")} | {
    path for path in _commands(cli) if path[0] == "query" and len(path) == 2}
NOT_DATA = {("extract",): "jsonl is the contract ../shared/tools read (and a table for people)"}
# run until stopped, or for minutes: their logs are what an operator reads
LONG_RUNNING = SUMMARIES | {("bench",), ("broker", "start")}


def command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group), path
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None, path
        cmd = found
    return cmd


def option(path: tuple[str, ...], flag: str) -> click.Option | None:
    return next((p for p in command(path).params if isinstance(p, click.Option) and flag in p.opts), None)


def choices(path: tuple[str, ...], flag: str) -> list[str]:
    opt = option(path, flag)
    assert opt is not None, f"`newsstream {' '.join(path)}` has no {flag}"
    assert isinstance(opt.type, click.Choice), path
    return list(opt.type.choices)


@pytest.mark.parametrize("path", sorted(SUMMARIES), ids=" ".join)
def test_each_closing_summary_comes_as_text_table_json_or_csv(path: tuple[str, ...]) -> None:
    assert choices(path, "--format") == ["text", "table", "json", "csv"]
    assert option(path, "--format").default == "text"  # type: ignore[union-attr]


@pytest.mark.parametrize("path", sorted(DATA), ids=" ".join)
def test_each_data_command_prints_a_table_json_or_csv(path: tuple[str, ...]) -> None:
    assert {"table", "json", "csv"} <= set(choices(path, "--format"))


def test_every_command_with_a_format_is_known_here() -> None:
    with_format = {path for path in _commands(cli) if not isinstance(command(path), click.Group)
                   and option(path, "--format") is not None}
    assert with_format == SUMMARIES | DATA | set(NOT_DATA)


@pytest.mark.parametrize("path", sorted(LONG_RUNNING), ids=" ".join)
def test_each_long_running_command_takes_log_level_and_log_format(path: tuple[str, ...]) -> None:
    assert choices(path, "--log-format") == ["auto", "json", "console"]
    assert set(choices(path, "--log-level")) == {"DEBUG", "INFO", "WARNING", "ERROR"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="newsstream", env={"COLUMNS": "200"})


@pytest.fixture
def loaded(tmp_path: Path) -> str:
    """A SQLite database holding the four hand-built articles of tests/test_query_api.py."""
    from pipeline.store.db import upgrade
    from tests.test_query_api import load

    url = f"sqlite:///{tmp_path / 'formats.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    load(engine)
    engine.dispose()
    return url


def csv_blocks(text: str) -> dict[str, list[dict[str, str]]]:
    """``# section`` headed CSV blocks, apart by empty lines -> section -> rows."""
    out = {}
    for block in text.strip("\n").split("\n\n"):
        head, _, body = block.partition("\n")
        assert head.startswith("# "), block
        out[head[2:]] = list(csv.DictReader(io.StringIO(body)))
    return out


def test_summary_as_csv_has_one_block_per_table_with_the_json_figures(loaded: str) -> None:
    res = invoke("summary", "--format", "json", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    res = invoke("summary", "--format", "csv", "--database-url", loaded)
    assert res.exit_code == 0, res.output
    blocks = csv_blocks(res.stdout)
    assert list(blocks) == ["counts", "top_entities", "events_by_type"]
    assert blocks["counts"] == [{k: str(data[k]) for k in ("articles", "entities", "mentions", "events")}]
    assert data["articles"] == 4
    assert blocks["top_entities"] == [{k: str(v) for k, v in row.items()} for row in data["top_entities"]]
    assert blocks["top_entities"] and list(blocks["top_entities"][0]) == ["name", "label", "mentions", "articles"]
    assert blocks["events_by_type"] == [{"type": t, "events": str(n)} for t, n in data["events_by_type"].items()]
    table = invoke("summary", "--database-url", loaded)
    assert table.exit_code == 0 and "newsstream database" in table.stdout and "events by type" in table.stdout


def test_reprocess_summary_as_json_and_a_second_run_changes_nothing(loaded: str) -> None:
    res = invoke("reprocess", "--database-url", loaded, "--no-progress", "--format", "json")
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)  # stdout holds the summary alone
    assert set(first) == {"read", "rewritten", "unchanged", "refused"}
    assert first["read"] == 4 and first["rewritten"] + first["unchanged"] + first["refused"] == 4
    assert first["refused"] == 0
    res = invoke("reprocess", "--database-url", loaded, "--no-progress", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(res.stdout))) == [
        {"read": "4", "rewritten": "0", "unchanged": "4", "refused": "0"}]
    res = invoke("reprocess", "--database-url", loaded, "--no-progress")
    assert res.stdout == "read 4, rewritten 0, unchanged 4, refused 0\n"  # the default: one line of text
