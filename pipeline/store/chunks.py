"""IN (...) lists of bounded length: the one helper behind every batched read and write of the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
CHUNK = 500  # bound parameters per IN (...) list


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i:i + size]
