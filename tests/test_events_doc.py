"""docs/events.md documents every type of the packaged lexicon with its family, definition and example."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def test_every_type_is_documented_with_its_definition_and_example() -> None:
    data = json.loads(resources.files("pipeline.extract").joinpath("lexicon.json").read_text(encoding="utf-8"))
    rows = {line.split("|")[2].strip().strip("`"): line for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and line.count("|") == 6}
    for name, info in data["types"].items():
        assert name in rows, f"{name} is missing from docs/events.md"
        for field in ("family", "definition", "example"):
            assert info[field] in rows[name], (name, field)
