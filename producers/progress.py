"""Progress bar for bulk loads: articles done, rate and ETA (rich, on stderr; off when not a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.parsing.reader import expand_paths


def estimate_records(paths: Sequence[str]) -> int | None:
    """A cheap guess of how many records the inputs hold (lines of JSON lines files, 1 per other file)."""
    total = 0
    for path in expand_paths(paths, lambda message: None):
        if path == "-":
            return None
        p = Path(path)
        try:
            if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
                with p.open("rb") as f:
                    total += max(1, sum(1 for line in f if line.strip()))
            else:
                total += 1
        except OSError:
            total += 1
    return total


class ProgressBar:
    """``with ProgressBar(enabled, total) as bar: bar.advance()``; does nothing when disabled."""

    def __init__(self, enabled: bool, total: int | None, *, force_terminal: bool = False) -> None:
        self.enabled = enabled
        self.total = total
        self.force_terminal = force_terminal
        self._progress: Any = None
        self._task: Any = None
        self.done = 0

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = Console(stderr=True, force_terminal=self.force_terminal or None)
            self._progress = Progress(SpinnerColumn(), TextColumn("producing"), BarColumn(), MofNCompleteColumn(),
                                      TaskProgressColumn(), TextColumn("{task.fields[rate]} articles/s"),
                                      TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
                                      console=console, transient=False)
            self._progress.start()
            self._task = self._progress.add_task("producing", total=self.total, rate="-")
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        total = task.total if task.total is None else max(task.total, self.done)
        speed = task.speed
        self._progress.update(self._task, advance=n, total=total, rate=f"{speed:.0f}" if speed else "-")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            if exc_type is None:  # the estimate was a guess: end at 100 %
                self._progress.update(self._task, total=self.done, completed=self.done)
            self._progress.stop()
