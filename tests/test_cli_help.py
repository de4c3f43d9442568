"""Every command and subcommand explains itself."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
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
