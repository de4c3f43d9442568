"""What the words around a place name say: containment ("Paris, Texas", "Rostov-on-Don, in southern
Russia", "the southern Russian city of Rostov-on-Don") and the dateline ("TOKYO, Feb 27 -")."""

from __future__ import annotations

import re

_QUALIFIER = r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|north[- ]?(?:east|west)" \
             r"(?:ern)?|south[- ]?(?:east|west)(?:ern)?|far|neighbouring|neighboring)\s+)?"
_NAME = r"[A-Z][\w.'’\-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w.'’\-]*){0,3}"
# "X, Texas" / "X, in southern Russia" / "X in eastern Ukraine" / "X (Ontario)"
_AFTER = re.compile(r"\s*(?:,\s*(?:in\s+(?:the\s+)?" + _QUALIFIER + r")?|\s+in\s+(?:the\s+)?" + _QUALIFIER
                    + r"|\s*\(\s*)(?P<name>" + _NAME + r")")
# "the southern Russian city of X" / "Russia's capital X" / "the Texas town of X"
_BEFORE = re.compile(r"(?P<name>" + _NAME + r")(?:['’]s)?\s+(?:(?:capital|port|industrial|border|coastal)\s+)?"
                     r"(?:city|town|village|port|capital|region|province|state|district|county)\s+(?:of\s+)?$")
_DATELINE = re.compile(r"^\s*(?P<city>[A-Z][A-Z.'’\-]+(?:\s+[A-Z][A-Z.'’\-]+){0,3})"
                       r"(?:\s*,\s*(?P<region>[A-Z][\w.'’]+(?:\s+[A-Z][\w.'’]+){0,2}))?\s*(?:,|\(|[–—-])")
_SENTENCE_END = re.compile(r"\.\s")
_STOP = frozenset({"The", "A", "An", "He", "She", "It", "They", "We", "But", "And", "On", "In", "At", "Reuters"})


def _clean(name: str) -> str | None:
    name = _SENTENCE_END.split(name)[0].rstrip(".")
    return None if not name or name.split()[0] in _STOP else name


def containers(text: str, start: int, end: int) -> list[str]:
    """Names the words right after or before the span ``text[start:end]`` place it in."""
    found = []
    after = _AFTER.match(text, end)
    if after:
        found.append(_clean(after.group("name")))
    before = _BEFORE.search(text[max(0, start - 80):start])
    if before:
        found.append(_clean(before.group("name")))
    return [n for n in found if n]


def dateline_span(text: str) -> tuple[int, int] | None:
    """The dateline city at the start of a wire ("TOKYO, Feb 27 - ..." -> the span of TOKYO)."""
    m = _DATELINE.match(text[:200])
    if m and len(m.group("city")) > 1 and any(c.isalpha() for c in m.group("city")):
        return m.start("city"), m.end("city")
    return None
