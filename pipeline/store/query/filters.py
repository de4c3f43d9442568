"""Pieces every read query shares: names through the alias table, date periods, substring search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from pipeline.errors import NewsstreamError
from pipeline.store.models import articles, entities, entity_aliases, entity_stats
from pipeline.store.normalize import alias_key

LIKE_ESCAPE = "\\"


class UnknownEntity(NewsstreamError):
    """A name that no entity has as an alias."""

    def __init__(self, name: str, label: str | None = None) -> None:
        self.name = name
        of = f" with label {label}" if label else ""
        super().__init__(f"no entity is called {name!r}{of} (names are matched case-insensitively "
                         "against the alias table; try `newsstream query entities`)")


@dataclass(frozen=True)
class Period:
    """Publication dates from ``since`` to ``until``, both inclusive; None leaves that side open."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise NewsstreamError(f"the period is empty: since {self.since} is after until {self.until}")

    def where(self, column: Any = None) -> list[Any]:
        """Conditions on ``column`` (default: ``articles.published_date``)."""
        col = articles.c.published_date if column is None else column
        out = []
        if self.since is not None:
            out.append(col >= self.since)
        if self.until is not None:
            out.append(col <= self.until)
        return out

    @property
    def open(self) -> bool:
        return self.since is None and self.until is None


ANY_TIME = Period()


def resolve_names(conn: sa.Connection, name: str, label: str | None = None) -> list[dict[str, Any]]:
    """Every entity that has ``name`` as an alias (of ``label`` when given), most mentioned first.

    ``[{"id", "name", "label", "mentions"}...]``; raises :class:`UnknownEntity` when there is none.
    """
    key = alias_key(name)
    if not key:
        raise UnknownEntity(name, label)
    n = sa.func.coalesce(entity_stats.c.mentions, 0)  # all-time totals, kept by the writer
    q = (sa.select(entities.c.id, entities.c.name, entities.c.label, n.label("mentions"))
         .join(entity_aliases, entity_aliases.c.entity_id == entities.c.id)
         .outerjoin(entity_stats, entity_stats.c.entity_id == entities.c.id)
         .where(entity_aliases.c.alias == key)
         .distinct()
         .order_by(sa.desc("mentions"), entities.c.id))
    if label:
        q = q.where(entity_aliases.c.label == label.upper())
    rows = [dict(r) for r in conn.execute(q).mappings()]
    if not rows:
        raise UnknownEntity(name, label)
    return rows


def entity_ids(conn: sa.Connection, name: str, label: str | None = None) -> list[int]:
    return [r["id"] for r in resolve_names(conn, name, label)]


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards and the escape character of ``text`` escaped."""
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def contains(conn: sa.Connection, column: Any, text: str) -> Any:
    """Case-insensitive substring match of ``text`` in ``column``, as a bound parameter.

    PostgreSQL: ``ILIKE`` (a trigram index serves it); SQLite: ``LIKE``, which ignores ASCII case.
    """
    pattern = like_pattern(text)
    if conn.dialect.name == "postgresql":
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return column.like(pattern, escape=LIKE_ESCAPE)


def iso(value: Any) -> Any:
    """Dates as ``YYYY-MM-DD`` strings (the same on both databases and in JSON/CSV)."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def newest(conn: sa.Connection, q: sa.Select[Any], date_col: Any, tiebreak: list[Any],
           limit: int) -> list[dict[str, Any]]:
    """Rows of ``q`` newest ``date_col`` first, rows without a date last, at most ``limit``.

    Two statements rather than ``ORDER BY ... DESC NULLS LAST``: PostgreSQL then walks the
    date index backwards and stops after ``limit`` rows; SQLite and PostgreSQL agree on the order.
    """
    dated = q.where(date_col.is_not(None)).order_by(date_col.desc(), *tiebreak).limit(limit)
    rows = [{k: iso(v) for k, v in r.items()} for r in conn.execute(dated).mappings()]
    if len(rows) < limit:
        undated = q.where(date_col.is_(None)).order_by(*tiebreak).limit(limit - len(rows))
        rows += [{k: iso(v) for k, v in r.items()} for r in conn.execute(undated).mappings()]
    return rows


def for_aggregates(conn: sa.Connection) -> None:
    """PostgreSQL, this transaction only: no JIT, aggregates in memory, index pages priced as cached.

    JIT compilation costs more than it saves on queries of this size; 4 MB (the default work_mem)
    makes the aggregates of a popular entity spill to disk. ``random_page_cost`` 4 (the default,
    priced for spinning disks) puts probing the primary key of ``article_entities`` once per
    article of a popular entity level with hashing the whole table, and the plan flips between
    the two with each ANALYZE; the probes take half the time (the indexes are read from memory).
    At 1.1 the planner probes, and reads a date range from its index.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
