"""The one list of PostgreSQL errors that mean "the database is unavailable right now".

Those are retried (the worker pauses and waits); every other error PostgreSQL reports is about
the statement or its data, and retrying cannot fix it. An error without an SQLSTATE is one the
server never answered (connection refused, reset, timed out): unavailable too. No SQL here.
"""

from __future__ import annotations

from typing import Any

# SQLSTATE classes (first two characters) whose every code means "not now".
UNAVAILABLE_CLASSES: dict[str, str] = {
    "08": "connection exception",
    "53": "insufficient resources (disk full, out of memory, too many connections)",
    "58": "system error (I/O error)",
}
# Single SQLSTATE codes outside those classes that mean "not now".
UNAVAILABLE_CODES: dict[str, str] = {
    "25006": "read_only_sql_transaction (a standby during failover)",
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
    "57014": "query_canceled (statement timeout)",
    "57P01": "admin_shutdown",
    "57P02": "crash_shutdown",
    "57P03": "cannot_connect_now (starting up, shutting down)",
    "57P05": "idle_session_timeout",
}
# SQLSTATE classes that are the item's fault: one article is refused, the rest of its batch is stored.
ITEM_CLASSES: dict[str, str] = {
    "22": "data exception (value too long, invalid text, out of range)",
    "23": "integrity constraint violation",
    "54": "program limit exceeded (an index row over the btree limit)",
}


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a DBAPI error (psycopg 3 or psycopg2), or of the one SQLAlchemy wraps."""
    orig: Any = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) and len(code) == 5 else None


def means_unavailable(code: str | None) -> bool:
    """True for a code of the list above (None, "the server never answered", is for the caller)."""
    return code is not None and (code[:2] in UNAVAILABLE_CLASSES or code in UNAVAILABLE_CODES)


def is_item_error(code: str | None) -> bool:
    return code is not None and code[:2] in ITEM_CLASSES


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "unavailable": retry later, it is not the data's fault."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    code = sqlstate(exc)
    if code is not None:
        return means_unavailable(code)
    # No SQLSTATE: PostgreSQL never answered (refused, reset), or SQLite (locked, I/O error).
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
