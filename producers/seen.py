"""The persisted seen-set: article ids already delivered to a topic, so a restart resends nothing.

A small SQLite file under the state directory, one row per (topic, id). Bounded: past
``max_ids`` the least recently sent ids are forgotten (a forgotten article that comes back
is sent again; downstream writes are idempotent, so that costs a little work, not a duplicate row).
Safe to share between threads and between processes (SQLite locking).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

COMMIT_EVERY = 500


class SeenStore:
    def __init__(self, path: str | Path, *, topic: str, max_ids: int = 1_000_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.topic = topic
        self.max_ids = max_ids
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (topic TEXT NOT NULL, id TEXT NOT NULL, "
                         "PRIMARY KEY (topic, id))")
        self._db.commit()
        self._uncommitted = 0

    @classmethod
    def in_dir(cls, state_dir: str | Path, *, topic: str, max_ids: int = 1_000_000) -> SeenStore:
        return cls(Path(state_dir) / "seen.sqlite", topic=topic, max_ids=max_ids)

    def __contains__(self, article_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM seen WHERE topic = ? AND id = ?",
                                   (self.topic, article_id)).fetchone()
        return row is not None

    def add(self, article_id: str) -> None:
        """Remember a delivered id (refreshing it when known: the bound forgets the oldest first)."""
        with self._lock:
            # REPLACE deletes and re-inserts: the row gets a new rowid, so rowid order is recency.
            self._db.execute("INSERT OR REPLACE INTO seen (topic, id) VALUES (?, ?)", (self.topic, article_id))
            self._uncommitted += 1
            if self._uncommitted >= COMMIT_EVERY:
                self._commit()

    def forget_topic(self) -> int:
        """Forget every id of this topic (it was emptied or created again); returns how many."""
        with self._lock:
            count = self._db.execute("DELETE FROM seen WHERE topic = ?", (self.topic,)).rowcount
            self._db.commit()
        return int(count)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM seen WHERE topic = ?", (self.topic,)).fetchone()[0])

    def _commit(self) -> None:
        excess = int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0]) - self.max_ids
        if excess > 0:
            self._db.execute("DELETE FROM seen WHERE rowid IN (SELECT rowid FROM seen ORDER BY rowid LIMIT ?)",
                             (excess,))
        self._db.commit()
        self._uncommitted = 0

    def commit(self) -> None:
        with self._lock:
            self._commit()

    def close(self) -> None:
        with self._lock:
            self._commit()
            self._db.close()
