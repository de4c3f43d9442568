"""`produce --follow`: pick up files as they land in directories, remembering what was sent.

A file is ready once it has stopped changing for ``settle`` seconds (its mtime that old, or its
size and mtime unchanged that long while watched), so a file still being written, even in
chunks seconds apart, is not read half-way. Writers that can should write to a hidden name
(``.name.json``) or another suffix (``name.json.part``) and rename when done: such files are
never listed, and the rename makes the file ready at once. Files done are kept in a small
SQLite file (per topic and set of watched paths) under the state dir, one row per file written
in its own short transaction: marking a file done costs the same with ten files or a million. A
restart reads only new or changed files. A file that changes is read again; the articles in it
that were already sent are skipped as duplicates by the seen-set.

Refused, and reported once per version of the file (``on_refused``): a symbolic link that
points outside the watched folders (``outside_folder``), and a file over ``max_file_bytes``
(``file_too_large``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import reasons
from pipeline.parsing.reader import expand_paths
from pipeline.records import Refusal

Signature = tuple[int, int]  # size, mtime_ns
MAX_FILE_BYTES = 100_000_000
SETTLE = 5.0


class DirectoryFollower:
    def __init__(self, paths: Sequence[str], state_dir: str | Path, *, topic: str, settle: float = SETTLE,
                 fresh: bool = False, max_file_bytes: int = MAX_FILE_BYTES,
                 on_refused: Callable[[Refusal], None] | None = None) -> None:
        """``fresh``: forget which files were done (the topic is empty: send them all again)."""
        self.paths = [str(Path(p).resolve()) for p in paths]
        digest = hashlib.sha256("\0".join([topic, *sorted(self.paths)]).encode()).hexdigest()[:12]
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        self.state_path = Path(state_dir) / f"follow-{digest}.sqlite"
        self.settle = settle
        self.max_file_bytes = max_file_bytes
        self.on_refused = on_refused or (lambda rejected: None)
        self._pending: dict[str, tuple[Signature, float]] = {}  # changing: signature, since when (monotonic)
        self._failed: dict[str, Signature] = {}  # not fully delivered, or refused: retried when changed
        self._db = sqlite3.connect(self.state_path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                         "mtime_ns INTEGER NOT NULL)")
        if fresh:
            self._db.execute("DELETE FROM files")
        else:
            self._import_json(Path(state_dir) / f"follow-{digest}.json")
        self.done: dict[str, Signature] = {p: (int(s), int(m)) for p, s, m in
                                           self._db.execute("SELECT path, size, mtime_ns FROM files")}

    def _import_json(self, old: Path) -> None:
        """The JSON state file of earlier versions: taken over once, then removed."""
        try:
            raw = json.loads(old.read_text("utf-8"))
            rows = [(k, int(v[0]), int(v[1])) for k, v in raw["files"].items()]
        except (FileNotFoundError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO files (path, size, mtime_ns) VALUES (?, ?, ?)", rows)
        old.unlink(missing_ok=True)

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.paths)

    def scan(self) -> list[tuple[str, Signature]]:
        """Files (with their signature) that are new or changed since they were done, and settled."""
        ready = []
        now, watch_now = time.time(), time.monotonic()
        listed = list(expand_paths(self.paths, lambda message: None))
        gone = set(self.done) - set(listed)
        if gone:  # deleted or moved away: forget them, so the state stays small
            for path in gone:
                del self.done[path]
            self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
        for path in listed:
            try:
                st = os.stat(path)
            except OSError:  # vanished between listing and stat (or a dangling link)
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if self.done.get(path) == sig or self._failed.get(path) == sig:
                continue
            since = self._pending.get(path)
            if since is None or since[0] != sig:  # new, or changed since the last scan: the clock restarts
                self._pending[path] = since = (sig, watch_now)
            if now - st.st_mtime < self.settle and watch_now - since[1] < self.settle:
                continue  # still being written, perhaps
            del self._pending[path]
            refusal = self._refusal(path, st.st_size)
            if refusal is not None:
                self._failed[path] = sig
                self.on_refused(refusal)
                continue
            ready.append((path, sig))
        return ready

    def _refusal(self, path: str, size: int) -> Refusal | None:
        if not self._inside(path):
            return Refusal(path, reasons.OUTSIDE_FOLDER, f"a symbolic link to {os.path.realpath(path)}, outside "
                            "the followed folders: not read")
        if size > self.max_file_bytes:
            return Refusal(path, reasons.FILE_TOO_LARGE, f"{size} bytes, over the limit of {self.max_file_bytes} "
                            "(NEWSSTREAM_FOLLOW_MAX_FILE_BYTES): not read")
        return None

    def mark_done(self, path: str, sig: Signature) -> None:
        """Remember a file as sent (call once its articles were delivered): one row, one short transaction."""
        self.done[path] = sig
        self._failed.pop(path, None)
        self._db.execute("INSERT OR REPLACE INTO files (path, size, mtime_ns) VALUES (?, ?, ?)", (path, *sig))

    def mark_failed(self, path: str, sig: Signature) -> None:
        """Some of the file's articles were not delivered: not done, but not read again every scan."""
        self._failed[path] = sig

    def close(self) -> None:
        self._db.close()
