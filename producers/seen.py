"""The persisted seen-set: article ids already delivered to a topic, so a restart resends nothing.

A small SQLite file under the state directory, one row per (topic, id). Bounded: past
``max_ids`` the least recently sent ids are forgotten (a forgotten article that comes back
is sent again; downstream writes are idempotent, so that costs a little work, not a duplicate row).
Safe to share between threads and between processes (SQLite locking).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from pipeline.config import DEFAULT_SEEN_MAX

WRITE_EVERY = 500  # ids
WRITE_AFTER = 1.0  # seconds


class SeenStore:
    """Ids are buffered in memory and written in short transactions (every ``WRITE_EVERY`` ids,
    ``WRITE_AFTER`` seconds, or on ``commit``), so no process holds SQLite's write lock for long."""

    def __init__(self, path: str | Path, *, topic: str, max_ids: int = DEFAULT_SEEN_MAX) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.topic = topic
        self.max_ids = max_ids
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (topic TEXT NOT NULL, id TEXT NOT NULL, "
                         "PRIMARY KEY (topic, id))")
        self._buffer: dict[str, None] = {}  # ordered: oldest first
        self._written = time.monotonic()

    @classmethod
    def in_dir(cls, state_dir: str | Path, *, topic: str, max_ids: int = DEFAULT_SEEN_MAX) -> SeenStore:
        return cls(Path(state_dir) / "seen.sqlite", topic=topic, max_ids=max_ids)

    def __contains__(self, article_id: str) -> bool:
        with self._lock:
            if article_id in self._buffer:
                return True
            row = self._db.execute("SELECT 1 FROM seen WHERE topic = ? AND id = ?",
                                   (self.topic, article_id)).fetchone()
        return row is not None

    def add(self, article_id: str) -> None:
        """Remember a delivered id (refreshing it when known: the bound forgets the oldest first)."""
        with self._lock:
            self._buffer.pop(article_id, None)
            self._buffer[article_id] = None
            if len(self._buffer) >= WRITE_EVERY or time.monotonic() - self._written >= WRITE_AFTER:
                self._write()

    def forget_topic(self) -> int:
        """Forget every id of this topic (it was emptied or created again); returns how many."""
        with self._lock:
            self._buffer.clear()
            count = self._db.execute("DELETE FROM seen WHERE topic = ?", (self.topic,)).rowcount
        return int(count)

    def __len__(self) -> int:
        with self._lock:
            self._write()
            return int(self._db.execute("SELECT count(*) FROM seen WHERE topic = ?", (self.topic,)).fetchone()[0])

    def _write(self) -> None:
        self._written = time.monotonic()
        if not self._buffer:
            return
        rows = [(self.topic, i) for i in self._buffer]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # REPLACE deletes and re-inserts: the row gets a new rowid, so rowid order is recency.
            self._db.executemany("INSERT OR REPLACE INTO seen (topic, id) VALUES (?, ?)", rows)
            excess = int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0]) - self.max_ids
            if excess > 0:
                self._db.execute("DELETE FROM seen WHERE rowid IN "
                                 "(SELECT rowid FROM seen ORDER BY rowid LIMIT ?)", (excess,))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a failed COMMIT (disk full) has rolled back already
                self._db.execute("ROLLBACK")
            raise
        self._buffer.clear()

    def commit(self) -> None:
        with self._lock:
            self._write()

    def close(self) -> None:
        with self._lock:
            self._write()
            self._db.close()
