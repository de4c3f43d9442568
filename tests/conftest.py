"""Test configuration: fixtures live in one plugin module per piece of real infrastructure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_kafka", "tests.fixtures_pg"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture(autouse=True)
def _clean_newsstream_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from default settings, whatever the developer's shell exports."""
    for key in list(os.environ):
        if key.upper().startswith("NEWSSTREAM_"):
            monkeypatch.delenv(key, raising=False)
    # the one exception: a `produce` nobody scrapes exits at once (5 s each otherwise); the wait has its own test
    monkeypatch.setenv("NEWSSTREAM_PRODUCER_SCRAPE_WAIT", "0")


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared/data is not beside this checkout")
    return path
