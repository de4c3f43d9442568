"""One list of reason codes (pipeline/reasons.py), the same as README's table, used everywhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pipeline import reasons
from pipeline.errors import InvalidArticle
from pipeline.records import Position, Refusal

ROOT = Path(__file__).resolve().parent.parent


def readme_codes() -> set[str]:
    """The codes in the first column of README's table under "Refusals, by reason"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**Refusals**, by reason")
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| reason |"))
    codes: set[str] = set()
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        codes |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return codes


def test_readme_table_lists_exactly_the_codes() -> None:
    assert readme_codes() == set(reasons.REASONS)


def test_every_code_has_a_meaning_and_a_place() -> None:
    places = {reasons.PRODUCER, reasons.DEAD_LETTER, reasons.HTTP, reasons.STORE}
    for code, reason in reasons.REASONS.items():
        assert reason.code == code and re.fullmatch(r"[a-z]+(_[a-z]+)*", code)
        assert reason.meaning and "\n" not in reason.meaning
        assert reason.applies and set(reason.applies) <= places, code


def test_constants_are_the_codes() -> None:
    constants = {v for k, v in vars(reasons).items() if k.isupper() and isinstance(v, str)
                 and k not in ("PRODUCER", "DEAD_LETTER", "HTTP", "STORE")}
    assert constants == set(reasons.REASONS)


def test_no_bare_reason_code_left_in_the_code() -> None:
    """Codes are written as reasons.X everywhere but in pipeline/reasons.py itself."""
    pattern = "|".join(c for c in reasons.REASONS if c != "language")  # "language" is also a field name
    found = subprocess.run(["grep", "-rnE", f"[\"']({pattern})[\"']", "--include=*.py",
                            "pipeline", "producers", "consumers"], cwd=ROOT, capture_output=True, text=True).stdout
    left = [line for line in found.splitlines() if not line.startswith("pipeline/reasons.py:")]
    assert not left, "\n".join(left)


def test_invalid_article_carries_a_refusal() -> None:
    exc = InvalidArticle("no text", code=reasons.EMPTY_BODY, origin="a.txt:3")
    assert (exc.code, exc.reason, exc.origin) == ("empty_body", "no text", "a.txt:3")
    assert exc.refusal == Refusal("a.txt:3", "empty_body", "no text")
    assert exc.refused("elsewhere", "raw text") == Refusal("a.txt:3", "empty_body", "no text")
    assert exc.refused("elsewhere", "raw text").raw == "raw text"
    nameless = InvalidArticle("bad", code=reasons.INVALID_FIELD)
    assert nameless.origin is None and nameless.refused("b.json:1").origin == "b.json:1"
    with pytest.raises(InvalidArticle) as info:
        raise exc
    assert str(info.value) == "a.txt:3: no text"


def test_one_refusal_type() -> None:
    from pipeline.parsing import Rejected
    from pipeline.store.writer import WriteStats

    assert Rejected is Refusal  # the old name of the parsers' refusal, kept as an alias
    assert WriteStats().rejected == []
    item = Refusal(Position("t", 1, 2).origin, reasons.STORE_REJECTED, "why", index=0, article_id="a")
    assert str(item) == "t[1]@2: why [store_rejected]"
