"""`newsstream db ...` through click: creates tables, reports revisions, never prints a password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.store.db import head, make_engine
from tests.fixtures_pg import PgServer
from tests.test_store_db import closed_port


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["db", *args], env=env)


def test_upgrade_creates_the_tables_and_current_reports_head(blank_db_url: str) -> None:
    result = run("upgrade", "--database-url", blank_db_url)
    assert result.exit_code == 0, result.output
    assert f"upgraded to {head()}" in result.output
    assert {"articles", "entities", "entity_aliases", "mentions", "events"} <= tables(blank_db_url)
    result = run("current", "--database-url", blank_db_url)
    assert result.exit_code == 0 and result.output.strip().endswith(f"{head()} (head)")


def test_downgrade_defaults_to_one_step(db_url: str) -> None:
    result = run("downgrade", "--yes", "--database-url", db_url)
    assert result.exit_code == 0, result.output
    assert "downgraded to " in result.output and head() not in result.output
    assert f"head is {head()}" in run("current", "--database-url", db_url).output
    result = run("downgrade", "--revision", "base", "--yes", "--database-url", db_url)
    assert result.exit_code == 0 and "downgraded to base" in result.output
    assert tables(db_url) <= {"alembic_version"}


def test_url_comes_from_the_environment_without_a_flag(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    result = run("upgrade", env={"NEWSSTREAM_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "articles" in tables(url)


@pytest.mark.postgres
def test_password_is_never_printed(pg_server: PgServer) -> None:
    pg_server.create_database("cli_secret")
    try:
        url = pg_server.url("cli_secret", password="pw-in-url-123")
        for args in (("upgrade",), ("current",), ("downgrade", "--revision", "base", "--yes")):
            result = run(*args, "--database-url", url)
            assert result.exit_code == 0, result.output
            assert "pw-in-url-123" not in result.output and "***" in result.output
        # the password may also come from NEWSSTREAM_DATABASE_PASSWORD
        result = run("upgrade", "--database-url", pg_server.url("cli_secret"),
                     env={"NEWSSTREAM_DATABASE_PASSWORD": "pw-from-env-456"})
        assert result.exit_code == 0 and "pw-from-env-456" not in result.output
    finally:
        pg_server.drop_database("cli_secret")


def test_failure_is_one_line_on_stderr_and_exit_1() -> None:
    url = f"postgresql+psycopg://newsstream:pw-unreachable-789@127.0.0.1:{closed_port()}/news"
    result = run("upgrade", "--database-url", url, env={"NEWSSTREAM_LOG_FORMAT": "console"})
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unavailable" in lines[0]
    assert "pw-unreachable-789" not in result.output


def test_unknown_revision_is_a_clean_error(db_url: str) -> None:
    result = run("upgrade", "--revision", "nonexistent", "--database-url", db_url)
    assert result.exit_code == 1
    assert "nonexistent" in result.stderr and "Traceback" not in result.output


def test_rebuild_counts_repairs_counts_changed_by_hand(engine: sa.Engine, db_url: str) -> None:
    from pipeline.store.models import entity_stats, mentions
    from pipeline.store.query import top_entities
    from pipeline.store.writer import write_batch
    from tests.test_store_writer import V1, kyiv, minsk

    write_batch(engine, [(*minsk(), None), (*kyiv(), None)], extractor_version=V1)
    expected = top_entities(engine)
    with engine.begin() as conn:
        conn.execute(entity_stats.update().values(mentions=0))
    assert top_entities(engine) != expected
    result = run("rebuild-counts", "--database-url", db_url)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": counts rebuilt: 6 (article, entity) rows, 5 entities")
    assert top_entities(engine) == expected
    with engine.begin() as conn:  # a mention deleted by hand is no longer counted after a rebuild
        conn.execute(mentions.delete().where(mentions.c.text == "Zelensky"))
    assert "5 (article, entity) rows, 4 entities" in run("rebuild-counts", "--database-url", db_url).output
    assert "Zelensky" not in [r["name"] for r in top_entities(engine)]


def test_rebuild_counts_on_a_database_without_the_tables_says_to_upgrade(blank_db_url: str) -> None:
    result = run("rebuild-counts", "--database-url", blank_db_url)
    assert result.exit_code == 1 and result.stdout == ""
    assert "newsstream db upgrade" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# -- issue 18.5 -------------------------------------------------------------------------------------
def _with_articles(url: str, n: int) -> None:
    from pipeline.article import Article
    from pipeline.records import Extraction
    from pipeline.store.writer import write_batch

    engine = make_engine(url)
    try:
        write_batch(engine, [(Article.build(body=f"Article {i} about a council.", title=f"T{i}",
                                            url=f"https://x.example/{i}"), Extraction(entities=[], events=[]), None)
                             for i in range(n)], extractor_version="t")
    finally:
        engine.dispose()


def test_downgrade_to_base_asks_first_and_a_no_keeps_every_article(db_url: str) -> None:
    _with_articles(db_url, 425)
    for answer in ("n\n", "", None):  # no, just Enter, no terminal at all
        result = CliRunner().invoke(cli, ["db", "downgrade", "--revision", "base", "--database-url", db_url],
                                    input=answer)
        assert result.exit_code == 1, result.output
        assert "holds 425 articles" in result.stderr and "drops every newsstream table" in result.stderr
        assert "nothing changed" in result.stderr and "--yes" in result.stderr
        assert "articles" in tables(db_url)
    result = CliRunner().invoke(cli, ["db", "downgrade", "--revision", "base", "--database-url", db_url],
                                input="y\n")
    assert result.exit_code == 0 and "downgraded to base" in result.stdout, result.output
    assert tables(db_url) <= {"alembic_version"}


def test_a_database_behind_the_code_says_which_revision_to_upgrade_to(blank_db_url: str) -> None:
    assert run("upgrade", "--revision", "0003", "--database-url", blank_db_url).exit_code == 0
    result = CliRunner().invoke(cli, ["query", "entities", "--database-url", blank_db_url])
    assert result.exit_code == 1
    assert f"schema at 0003, this version needs {head()}: run `newsstream db upgrade`" in result.stderr
    assert "no such table" not in result.stderr and "does not exist" not in result.stderr
