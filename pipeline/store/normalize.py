"""Pure helpers for the writer: alias keys, item validation and content hashes (no SQL)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from pipeline.article import Article
from pipeline.records import Event, Extraction
from pipeline.store.models import MODALITIES

MAX_INT = 2**31 - 1  # INTEGER columns
_QUOTES = " \t\r\n\"'“”‘’«»()[]{},;:"
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$", re.I)
TEXT_FIELDS = ("body", "title", "lead", "dateline")  # fields whose text the article carries
# Largest value (UTF-8 bytes, all columns of the index together) stored in an indexed text column.
# PostgreSQL's btree refuses an index row over 2704 bytes (ProgramLimitExceeded); this leaves room
# for the row header, and SQLite gets the same rule so that both databases store the same articles.
MAX_INDEXED_BYTES = 2000


def clean_name(text: str) -> str:
    """Collapse whitespace and strip surrounding quotes/brackets: '  "Alexander  Lukashenko" ' -> ..."""
    return " ".join(text.split()).strip(_QUOTES)


def alias_key(text: str) -> str:
    """The normalised alias of a surface form: cleaned, possessive stripped, lower-cased."""
    name = clean_name(text)
    return clean_name(_POSSESSIVE.sub("", name)).lower() if name else ""


def parse_date(text: str | None) -> date | None:
    """YYYY-MM-DD -> date (None stays None); ValueError on anything else."""
    if text is None or text == "":
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"event date {text!r} is not YYYY-MM-DD")
    return date.fromisoformat(text)


def plain(value: Any) -> Any:
    """A record as plain dicts and lists: what ``dataclasses.asdict`` gives, without its deep copy of
    every leaf (the records hold only str, int, float, bool and None; measured: asdict was a quarter
    of a batch's write time)."""
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: plain(getattr(value, name)) for name in fields}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _offsets_ok(start: Any, end: Any) -> bool:
    return isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= MAX_INT


def _too_large(what: str, value: str | None) -> str | None:
    """Why ``value`` cannot go into an indexed column (None: it can)."""
    if not isinstance(value, str):
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size <= MAX_INDEXED_BYTES:
        return None
    return (f"{what} is {len(value):,} characters ({size:,} bytes), over the {MAX_INDEXED_BYTES:,}-byte "
            "limit of an indexed column")


def _event_problem(i: int, ev: Event) -> str | None:
    if not isinstance(ev.type, str) or not ev.type.strip():
        return f"event {i}: empty type"
    why = _too_large(f"event {i}: type", ev.type)
    if why:
        return why
    if not _offsets_ok(ev.trigger.start, ev.trigger.end):
        return f"event {i}: bad trigger offsets {ev.trigger.start}..{ev.trigger.end}"
    if ev.modality not in MODALITIES:
        return f"event {i}: unknown modality {ev.modality!r} (expected one of {', '.join(MODALITIES)})"
    try:
        parse_date(ev.date)
    except ValueError as exc:
        return f"event {i}: {exc}"
    return None


def problem(article: Any, extraction: Any) -> str | None:
    """Why this item cannot be stored (None: it can). Checked before any SQL runs."""
    if not isinstance(article, Article):
        return f"expected an Article, got {type(article).__name__}"
    if not isinstance(extraction, Extraction):
        return f"expected an Extraction, got {type(extraction).__name__}"
    texts = {f: getattr(article, f) for f in TEXT_FIELDS}
    why = _too_large("source", article.source)
    if why:
        return why
    for i, ent in enumerate(extraction.entities):
        if not isinstance(ent.name, str) or not clean_name(ent.name) or not alias_key(ent.name):
            return f"entity {i}: empty name"
        if not isinstance(ent.label, str) or not ent.label.strip():
            return f"entity {ent.name!r}: empty label"
        why = _too_large(f"entity {i}: name", clean_name(ent.name) + ent.label)
        for m in ent.mentions:
            why = why or _too_large(f"entity {i}: alias", alias_key(m.text) + ent.label
                                    if isinstance(m.text, str) else None)
        if why:
            return why
        for m in ent.mentions:
            if not _offsets_ok(m.start, m.end):
                return f"entity {ent.name!r}: bad mention offsets {m.start}..{m.end}"
            if not isinstance(m.field, str) or not m.field:
                return f"entity {ent.name!r}: mention without a field"
            text = texts.get(m.field)
            if m.field in TEXT_FIELDS and m.end > len(text or ""):
                return (f"entity {ent.name!r}: mention {m.start}..{m.end} runs past the end of the "
                        f"{m.field} ({len(text or '')} characters)")
    for i, ev in enumerate(extraction.events):
        why = _event_problem(i, ev)
        if why:
            return why
    if any("\x00" in s for s in _strings([article.model_dump(), plain(extraction)])):
        return "text contains NUL characters"
    return None


def content_hash(article: Article, extraction: Extraction, extractor_version: str) -> str:
    """Identical article + extraction + extractor version -> identical hash (rewrite is skipped)."""
    payload = {"article": article.model_dump(), "extraction": plain(extraction),
               "version": extractor_version}
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
