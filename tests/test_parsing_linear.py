"""Parsing stays linear: the benchmark script, on small sizes, and the line numbers of a long JSON array."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.parsing import Rejected, parse_bytes

ROOT = Path(__file__).resolve().parents[1]


def test_the_parser_benchmark_runs_and_finds_every_parser_linear() -> None:
    res = subprocess.run([sys.executable, "benchmarks/bench_parsers.py", "--sizes", "0.1,0.2", "--max-mb", "0.4",
                          "--max-seconds", "5"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("input") and len(lines) >= 17
    assert "html, '<a' repeated" in res.stdout and "x" in lines[1]
    # Timing on a shared machine is noisy: only a gross failure (quadratic time) counts here.
    assert "NOT LINEAR" not in res.stdout or all("s, 1." in p or "s, 2." in p or "s, 3." in p
                                                  for p in lines if p.startswith("NOT LINEAR"))


def test_line_numbers_of_array_elements_are_right_far_into_the_text() -> None:
    items = ",\n".join(f'{{"body": "text {i}"}}' if i != 20_000 else '{"body": [1]}' for i in range(30_000))
    rejected = [i for i in parse_bytes(("[\n" + items + "\n]").encode(), "a.json") if isinstance(i, Rejected)]
    assert [(r.origin, r.code) for r in rejected] == [("a.json:20002", "invalid_field")]
