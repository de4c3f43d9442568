"""update_by_key: many rows of a table set by key in one statement per chunk (PostgreSQL) or an executemany."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.store import bulk


def _table(engine: sa.Engine) -> sa.Table:
    meta = sa.MetaData()
    table = sa.Table("bulk_probe", meta, sa.Column("id", sa.String, primary_key=True),
                     sa.Column("story_id", sa.Integer), sa.Column("seq", sa.Integer), sa.Column("note", sa.String))
    meta.create_all(engine)
    return table


def test_every_row_gets_its_values_and_no_other_row_changes(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values set by key, NULLs included (a column of NULLs only, too), across chunk boundaries, on
    both databases; rows not named keep theirs."""
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 7)
    table = _table(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": f"a{i}", "story_id": 0, "seq": 0, "note": "old"} for i in range(40)])
        rows = [{"id": f"a{i}", "story_id": i if i % 3 else None, "seq": None, "note": f"n'{i}\u00e9"}
                for i in range(0, 40, 2)]
        bulk.update_by_key(conn, table, "id", rows)
        bulk.update_by_key(conn, table, "id", [])
        got = {r.id: (r.story_id, r.seq, r.note) for r in conn.execute(sa.select(table))}
    for i in range(40):
        want = (i if i % 3 else None, None, f"n'{i}\u00e9") if i % 2 == 0 else (0, 0, "old")
        assert got[f"a{i}"] == want, i


def test_a_json_column_is_set_too(engine: sa.Engine) -> None:
    """A column PostgreSQL cannot take as an array of JSON (a story's top entities) goes the row-by-row way."""
    meta = sa.MetaData()
    table = sa.Table("bulk_json_probe", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("top", sa.JSON), sa.Column("n", sa.Integer))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "top": [], "n": 0} for i in range(3)])
        bulk.update_by_key(conn, table, "id", [{"id": 0, "top": [{"name": "Yukos", "articles": 2}], "n": 5},
                                               {"id": 2, "top": [], "n": None}])
        got = {r.id: (r.top, r.n) for r in conn.execute(sa.select(table))}
    assert got == {0: ([{"name": "Yukos", "articles": 2}], 5), 1: ([], 0), 2: ([], None)}
