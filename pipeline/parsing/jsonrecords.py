"""JSON records -> Article fields.

Understands our own schema v1, news-please output, the BBC dataset
(``id, category, title, text``), Reuters-21578 as JSON (``newid, date, title,
dateline, body``) and the generic contract keys. A user ``field_map``
(our field <- their key) wins over the defaults; unknown keys are ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from pipeline import reasons
from pipeline.article import FIELD_META, LIST_FIELDS, SCHEMA_VERSION, Article, normalize_published
from pipeline.errors import ConfigError, InvalidArticle
from pipeline.parsing.plaintext import split_authors

# Our field <- their keys, first present (non-null) wins: the keys are listed with the fields (FIELD_META).
DEFAULT_KEYS: dict[str, tuple[str, ...]] = {name: meta.keys for name, meta in FIELD_META.items()}
_LIST_FIELDS = set(LIST_FIELDS)
_REUTERS_DATE = re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4} \d{1,2}:\d{2}:\d{2}(?:\.\d+)?")
_REUTERS_SIGNOFF = re.compile(r"\breuters?\b[\s\x03]*$", re.I)  # no leading \s*: linear
_PLAIN_HOST = re.compile(r"https?://([A-Za-z0-9.-]+)(?=[/?#:]|$)", re.I)  # the common case, without urlsplit


def check_field_map(field_map: dict[str, str] | None) -> dict[str, str]:
    """Validate a user mapping {our field: their key}; raises ConfigError on an unknown field."""
    field_map = dict(field_map or {})
    unknown = sorted(set(field_map) - set(Article.model_fields))
    if unknown:
        raise ConfigError(f"field map names unknown article fields {unknown}; "
                          f"known: {sorted(Article.model_fields)}")
    return field_map


@functools.lru_cache(maxsize=64)
def _plan(mapped: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(field, the keys to look for it under, first present wins) for one field map, checked and worked
    out once (ConfigError on a field map naming an unknown field)."""
    field_map = check_field_map(dict(mapped))
    return tuple((field, ((field_map[field],) if field in field_map else ()) + DEFAULT_KEYS.get(field, ()))
                 for field in Article.model_fields)


def _picked(record: dict[str, Any], field_map: dict[str, str]) -> Iterator[tuple[str, str, Any]]:
    """(field, key, value) for each field the record gives a (non-null) value."""
    for field, keys in _plan(tuple(sorted(field_map.items()))):
        for key in keys:
            value = record.get(key)
            if value is not None:
                yield field, key, value
                break


def _text(value: Any, field: str, key: str, origin: str) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidArticle(f"{key!r} (for {field}) should be text, got {type(value).__name__}",
                         code=reasons.INVALID_FIELD, origin=origin)


def _list(value: Any, field: str, key: str, origin: str) -> list[str]:
    if isinstance(value, str):
        return split_authors(value) if field == "authors" else [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InvalidArticle(f"{key!r} (for {field}) should be a list of strings", code=reasons.INVALID_FIELD,
                         origin=origin)


def _epoch(value: float, key: str, origin: str) -> str:
    """Unix time (seconds, or milliseconds when it is too large for seconds) as UTC ISO 8601."""
    seconds = value / 1000 if abs(value) > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        raise InvalidArticle(f"{key!r}: {value} is not a Unix time", code=reasons.BAD_DATE, origin=origin) from None


def reflow_reuters(body: str) -> str:
    """Reuters bodies are hard-wrapped with indented paragraphs and end with 'Reuter'."""
    if signoff := _REUTERS_SIGNOFF.search(body):
        body = body[: signoff.start()]
    paragraphs = re.split(r"\n(?:[ \t]+|\s*\n)", body)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _host(url: str) -> str | None:
    """The host name of a URL, lower-case (None when it has none or cannot be read)."""
    if plain := _PLAIN_HOST.match(url):
        return plain.group(1).lower()
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def from_record(record: Any, *, origin: str, field_map: dict[str, str] | None = None) -> dict[str, Any]:
    """Article fields (for ``Article.build``) from one decoded JSON value.

    Raises InvalidArticle with code ``bad_shape``, ``missing_body``, ``bad_date``,
    ``bad_schema_version`` or ``invalid_field``.
    """
    if not isinstance(record, dict):
        raise InvalidArticle(f"expected a JSON object, got {type(record).__name__}", code=reasons.BAD_SHAPE,
                             origin=origin)
    field_map = field_map or {}
    version = record.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InvalidArticle(f"unknown schema_version {version!r} (this reader knows {SCHEMA_VERSION})",
                             code=reasons.BAD_SCHEMA_VERSION, origin=origin)
    fields: dict[str, Any] = {}
    for field, key, value in _picked(record, field_map):
        if field in _LIST_FIELDS:
            fields[field] = _list(value, field, key, origin)
        elif field == "published" and isinstance(value, (int, float)) and not isinstance(value, bool):
            fields[field] = _epoch(value, key, origin)
        else:
            text = _text(value, field, key, origin)
            if field == "body" or text.strip():  # a blank optional field is an absent one
                fields[field] = text
    if "body" not in fields:
        wanted = field_map.get("body") or "body|maintext|text|content"
        raise InvalidArticle(f"missing body (no {wanted!r} key)", code=reasons.MISSING_BODY, origin=origin)
    if not fields.get("source") and fields.get("url"):  # as news-please does: the URL's domain
        host = _host(fields["url"].strip())
        if host:
            fields["source"] = host.removeprefix("www.")
    if "newid" in record and "id" not in field_map and "id" not in record:  # Reuters-21578
        fields["id"] = f"reuters-{record['newid']}"
        fields["body"] = reflow_reuters(fields["body"])
        fields.setdefault("source", "Reuters")
        if fields.get("dateline"):
            fields["dateline"] = fields["dateline"].split(",")[0].strip(" -–") or None
        if fields.get("published") and (m := _REUTERS_DATE.match(fields["published"])):
            fields["published"] = m.group(0)  # some carry SGML debris after the time
    if "published" in fields:
        try:
            fields["published"] = normalize_published(fields["published"])
        except ValueError as exc:
            raise InvalidArticle(str(exc), code=reasons.BAD_DATE, origin=origin) from None
    return fields
