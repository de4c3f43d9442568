"""Many rows of one table updated by their key, in as few statements as the database allows.

On PostgreSQL an executemany of ``UPDATE ... WHERE id = :id`` is one statement per row, each
parsed, planned and run by the server (psycopg pipelines them, but each still costs a round of
work): here it is one ``UPDATE ... FROM unnest(<one array per column>)`` per chunk of rows, a
statement of fixed text (SQLAlchemy compiles it once; a ``VALUES`` list of the rows took longer to
compile than the executemany took to run). A JSON column is not bound as an array: rows with one
are updated by an executemany, as on SQLite. On SQLite, which runs in this process, the executemany
is as cheap, and it has no arrays, so it stays an executemany.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline.store.chunks import chunks

ROWS_PER_STATEMENT = 1_000


def update_by_key(conn: Connection, table: sa.Table, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """``UPDATE table SET <column> = row[column], ... WHERE table.<key> = row[key]`` for every row
    (each row has the same keys: ``key`` and the columns to set)."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if conn.dialect.name != "postgresql" or any(isinstance(table.c[name].type, sa.JSON) for name in columns):
        conn.execute(table.update().where(table.c[key] == sa.bindparam(f"k_{key}"))
                     .values({name: sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}),
                     [{f"k_{key}": row[key], **{f"v_{name}": row[name] for name in columns}} for row in rows])
        return
    prep = conn.dialect.identifier_preparer
    names = [key, *columns]
    quoted = {name: prep.quote(name) for name in names}
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=conn.dialect)}[])" for name in names)
    statement = sa.text(
        f"UPDATE {prep.format_table(table)} AS t SET "
        + ", ".join(f"{quoted[name]} = u.{quoted[name]}" for name in columns)
        + f" FROM unnest({arrays}) AS u({', '.join(quoted[name] for name in names)})"
        + f" WHERE t.{quoted[key]} = u.{quoted[key]}")
    for part in chunks(rows, ROWS_PER_STATEMENT):
        conn.execute(statement, {name: [row[name] for row in part] for name in names})
