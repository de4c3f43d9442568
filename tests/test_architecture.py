"""The house's walls (README, table of places): which rooms may import which. An AST scan of every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = "newsstream_cli"


def imports(package: str) -> dict[str, set[str]]:
    """module path -> the top-level-qualified names it imports (``from x import y`` gives ``x``)."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        out[str(path.relative_to(ROOT))] = names
    return out


def crossing(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{module} imports {name}" for module, names in imports(package).items() for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize(("room", "forbidden"), [
    ("pipeline", ("producers", "consumers", CLI, "devtools")),
    ("producers", ("devtools",)),
    ("consumers", ("devtools",)),
    ("pipeline.store", ("pipeline.extract", "spacy", "kafka", "pipeline.bus")),
    ("pipeline.extract", ("kafka", "sqlalchemy", "pipeline.store", "pipeline.bus")),
    ("pipeline.parsing", ("kafka", "sqlalchemy", "spacy", "pipeline.store", "pipeline.bus")),
    ("pipeline.geo", ("kafka", "sqlalchemy", "spacy", "pipeline.store", "pipeline.bus", "pipeline.extract")),
    ("pipeline.stories", ("kafka", "sqlalchemy", "spacy", "pipeline.store", "pipeline.bus", "pipeline.extract")),
    ("pipeline.bus", ("sqlalchemy", "spacy", "pipeline.store", "pipeline.extract")),
    ("producers", ("consumers", CLI, "sqlalchemy", "pipeline.store")),
    ("consumers", ("producers", CLI)),
])
def test_a_room_does_not_import_what_it_must_know_nothing_of(room: str, forbidden: tuple[str, ...]) -> None:
    if not (ROOT / room.replace(".", "/")).is_dir():
        pytest.skip(f"{room} does not exist")
    assert crossing(room, forbidden) == []


def test_only_the_bus_imports_the_kafka_client() -> None:
    found = [f"{module} imports {name}" for pkg in ("pipeline", "producers", "consumers", CLI, "devtools", "tests",
                                                    "benchmarks", "monitoring")
             if (ROOT / pkg).is_dir()
             for module, names in imports(pkg).items() if not module.startswith("pipeline/bus/")
             for name in names if name == "kafka" or name.startswith("kafka.") or name.startswith("confluent_kafka")]
    assert found == []


def test_query_help_does_not_load_spacy() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\n"
            f"from {CLI}.main import cli\n"
            "res = CliRunner().invoke(cli, ['query', '--help'])\nassert res.exit_code == 0, res.output\n"
            "print('spacy' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
