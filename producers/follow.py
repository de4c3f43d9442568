"""`produce --follow`: pick up files as they land in directories, remembering what was sent.

A file is ready once it has stopped changing (same size and mtime over one scan, or untouched
for ``settle`` seconds), so a file still being written is not read half-way. Files done are
kept in a state file (per topic and set of watched paths) under the state dir: a restart reads
only new or changed files. A file that changes is read again; the articles in it that were
already sent are skipped as duplicates by the seen-set.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.parsing.reader import expand_paths

Signature = tuple[int, int]  # size, mtime_ns


class DirectoryFollower:
    def __init__(self, paths: Sequence[str], state_dir: str | Path, *, topic: str, settle: float = 1.0,
                 fresh: bool = False) -> None:
        """``fresh``: forget which files were done (the topic is empty: send them all again)."""
        self.paths = [str(Path(p).resolve()) for p in paths]
        digest = hashlib.sha256("\0".join([topic, *sorted(self.paths)]).encode()).hexdigest()[:12]
        self.state_path = Path(state_dir) / f"follow-{digest}.json"
        self.settle = settle
        self._pending: dict[str, Signature] = {}
        self._failed: dict[str, Signature] = {}  # not fully delivered: retried when changed, or on restart
        try:
            raw = json.loads(self.state_path.read_text("utf-8"))
            self.done: dict[str, Signature] = {k: (int(v[0]), int(v[1])) for k, v in raw["files"].items()}
        except (FileNotFoundError, ValueError, KeyError, TypeError, IndexError):
            self.done = {}
        if fresh:
            self.done = {}

    def scan(self) -> list[tuple[str, Signature]]:
        """Files (with their signature) that are new or changed since they were done, and settled."""
        ready = []
        now = time.time()
        listed = list(expand_paths(self.paths, lambda message: None))
        gone = set(self.done) - set(listed)
        if gone:  # deleted or moved away: forget them, so the state file stays small
            for path in gone:
                del self.done[path]
            self._save()
        for path in listed:
            try:
                st = os.stat(path)
            except OSError:  # vanished between listing and stat
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if self.done.get(path) == sig or self._failed.get(path) == sig:
                continue
            if self._pending.get(path) == sig or now - st.st_mtime >= self.settle:
                ready.append((path, sig))
                self._pending.pop(path, None)
            else:
                self._pending[path] = sig
        return ready

    def mark_done(self, path: str, sig: Signature) -> None:
        """Remember a file as sent (call once its articles were delivered)."""
        self.done[path] = sig
        self._save()

    def mark_failed(self, path: str, sig: Signature) -> None:
        """Some of the file's articles were not delivered: not done, but not read again every scan."""
        self._failed[path] = sig

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"paths": self.paths, "files": self.done}, indent=1), "utf-8")
        tmp.replace(self.state_path)
