"""Every command and subcommand explains itself."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from newsstream_cli.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None and cmd.name == name, name
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


EXPECTED = {("broker", "start"), ("broker", "stop"), ("broker", "status"), ("db", "upgrade"), ("produce",),
            ("consume",), ("extract",), ("topics", "create"), ("summary",)}


def test_the_documented_commands_exist() -> None:
    assert set(_commands(cli)) >= EXPECTED


@pytest.mark.parametrize("path", sorted(_commands(cli)), ids=" ".join)
def test_help_describes_each_command(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(cli, [*path, "--help"], prog_name="newsstream")
    assert res.exit_code == 0, res.output
    assert "Usage: newsstream " + " ".join(path) in res.output
    body = res.output.split("\n\n", 2)[1].strip()
    assert len(body) > 15, f"`newsstream {' '.join(path)} --help` has no description"


def test_the_top_level_help_is_quick_and_loads_no_command() -> None:
    import subprocess
    import sys
    import time

    code = ("import sys, time\nt = time.perf_counter()\nfrom click.testing import CliRunner\n"
            "from newsstream_cli.main import cli\nres = CliRunner().invoke(cli, ['--help'])\n"
            "assert res.exit_code == 0 and 'serve-ingest' in res.output\n"
            "heavy = [m for m in ('spacy', 'sqlalchemy', 'kafka', 'pydantic_settings') if m in sys.modules]\n"
            "print(heavy, round(time.perf_counter() - t, 3))")
    started = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    heavy, _seconds = res.stdout.rsplit(" ", 1)
    assert heavy == "[]", f"`newsstream --help` imported {heavy}"
    assert time.perf_counter() - started < 5


def test_make_help_prints_one_target_a_line_with_its_description() -> None:
    """`make help`: every documented target (``target: ... ## what``) on a line of its own, its
    description in one column after at least two spaces (issue 18.12: two lines ran together)."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("make") is None:
        pytest.skip("make is not installed (apt-get install make)")
    root = Path(__file__).resolve().parent.parent
    documented = re.findall(r"^([a-z-]+):.*?## (.+)$", (root / "Makefile").read_text(), re.M)
    res = subprocess.run(["make", "--no-print-directory", "-C", str(root), "help"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    rows = [re.fullmatch(r"  make (\S+)( {2,})(\S.*)", line) for line in lines]
    assert all(rows), [line for line, m in zip(lines, rows, strict=True) if not m]
    assert [(m[1], m[3]) for m in rows if m] == documented
    assert len({m.start(3) for m in rows if m}) == 1, res.stdout  # one column of descriptions
