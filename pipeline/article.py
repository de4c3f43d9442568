"""The Article model, message schema v1 (encode/decode) and stable article ids.

Knows nothing of Kafka, SQL or spaCy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import reasons
from pipeline.errors import InvalidArticle

SCHEMA_VERSION = 1
DEFAULT_MAX_BODY_BYTES = 1_000_000

_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.I)


# http(s), a plain host name, a path, nothing else: most article URLs; normalized without urlsplit
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+)(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?", re.ASCII)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop fragments, tracking parameters and trailing slashes."""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain:  # the same result as below, at a third of the cost (ids are made for every record)
        _, host, path = plain.groups()
        return f"https://{host.lower().removeprefix('www.')}{(path or '').rstrip('/') or '/'}"
    return _normalize_parsed(url)


def _normalize_parsed(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)))
    path = re.sub(r"/+$", "", parts.path) or "/"
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme.lower(), host, path, query, ""))


def article_id(*, url: str | None, source: str | None, title: str | None, body: str) -> str:
    """Stable id: the same article gets the same id from every source.

    Same normalized URL -> same id; without a URL, same source + title + body.
    """
    if url:
        key = "url\x00" + normalize_url(url)
    else:
        key = "\x00".join(["text", (source or "").strip().lower(), " ".join((title or "").split()),
                           " ".join(body.split())])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


DATE_DAY_FIRST_ENV = "NEWSSTREAM_DATE_DAY_FIRST"
_MAX_DATE_CHARS = 200
# Time zone abbreviations read in dates (dateutil knows only UTC/GMT by itself and drops the rest).
_HOURS = 3600
TIME_ZONES: dict[str, float] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1,
    "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "NST": -3.5, "NDT": -2.5,
    "PKT": 5, "ICT": 7, "WIB": 7, "HKT": 8, "SGT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5,
    "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}
AMBIGUOUS_TIME_ZONES = {"IST": "India, Ireland or Israel", "AST": "Atlantic or Arabia",
                        "ADT": "Atlantic or Arabia"}
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)(?=[+-]\d)")  # "GMT+3" means +03:00 (dateutil reads it as -03:00)
_IANA = re.compile(r"(?:^|\s)(?P<zone>[A-Za-z_]+(?:/[A-Za-z_+\-]+)+)\s*$")


def date_day_first() -> bool:
    """``NEWSSTREAM_DATE_DAY_FIRST`` (setting ``date_day_first``): read 03/04/2024 as 3 April, not March 4."""
    from pydantic import TypeAdapter

    raw = os.environ.get(DATE_DAY_FIRST_ENV, "").strip()
    return bool(raw) and TypeAdapter(bool).validate_python(raw)


def normalize_published(value: Any, *, day_first: bool | None = None) -> str | None:
    """ISO 8601 text: ``YYYY-MM-DD`` for dates, ``YYYY-MM-DDTHH:MM:SS[+HH:MM]`` for times.

    Raises ValueError, with the reason, for text that is not a date, a date that names no day
    (``2024``, ``March 2024``, ``Tuesday``: nothing is invented) and a time zone that is unknown or
    ambiguous (``IST``). ``day_first`` (default: the ``date_day_first`` setting) decides 03/04/2024.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValueError(f"date {text!r}: {exc}") from None
    if len(text) > _MAX_DATE_CHARS:
        raise ValueError(f"date of {len(text)} characters: too long to be a date")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    return _parse_date(text, date_day_first() if day_first is None else day_first)


def _parse_date(text: str, day_first: bool) -> str:
    from datetime import timedelta, timezone, tzinfo
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from dateutil import parser as dateparser  # slower, only for unusual formats

    zone: tzinfo | None = None
    if (m := _IANA.search(text)) and not text[m.start("zone"):].startswith(("GMT", "UTC")):
        try:
            zone = ZoneInfo(m.group("zone"))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone {m.group('zone')!r} is not known") from None
        text = text[: m.start("zone")].strip()
    try:
        result, _ = dateparser.parser()._parse(_GMT_OFFSET.sub("", text), dayfirst=day_first)
    except (ValueError, OverflowError, TypeError):
        result = None
    if result is None:
        raise ValueError(f"unparseable date {text!r}")
    if result.year is None or result.month is None or result.day is None:
        named = [part for part in ("year", "month", "day") if getattr(result, part) is not None]
        what = f"{' and '.join(named)} only" if named else "no calendar date"
        raise ValueError(f"date {text!r} names no day ({what}); a publication date needs year, month and day")
    if result.tzname and result.tzoffset is None:
        name = result.tzname.upper()
        if name in AMBIGUOUS_TIME_ZONES:
            raise ValueError(f"time zone {result.tzname!r} is ambiguous ({AMBIGUOUS_TIME_ZONES[name]}); "
                             "give an offset such as +05:30")
        if name not in TIME_ZONES:
            raise ValueError(f"time zone {result.tzname!r} is not known; give an offset such as +01:00")
        result.tzoffset = int(TIME_ZONES[name] * _HOURS)
    if result.tzoffset is not None:
        zone = timezone(timedelta(seconds=result.tzoffset))
    try:
        day = date(result.year, result.month, result.day)
        if result.hour is None:
            return day.isoformat()
        when = datetime(day.year, day.month, day.day, result.hour, result.minute or 0, result.second or 0,
                        result.microsecond or 0)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unparseable date {text!r}: {exc}") from None
    if zone is not None:
        when = when.replace(tzinfo=zone)
        if isinstance(zone, ZoneInfo):
            when = when.astimezone(timezone(when.utcoffset() or timedelta(0)))
    return when.isoformat()


def normalize_language(value: Any) -> str | None:
    """A declared language as an ISO 639-1 code: ``en-US``, ``EN``, ``en_GB``, ``eng``, ``English`` -> ``en``.

    None when the value names no language (blank, or a code no standard knows).
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    return _language_code(text) if 0 < len(text) <= 40 else None


_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}")
_LANGUAGE_SEPARATOR = re.compile(r"[-_.@ ]")


@lru_cache(maxsize=1024)
def _language_code(text: str) -> str | None:
    primary = _LANGUAGE_SEPARATOR.split(text, maxsplit=1)[0]
    if _LANGUAGE_CODE.fullmatch(primary) and len(primary) == 2:
        return primary.lower()
    import pycountry

    try:
        found = pycountry.languages.lookup(primary if _LANGUAGE_CODE.fullmatch(primary) else text)
    except LookupError:
        return None
    code = getattr(found, "alpha_2", None)
    return code if isinstance(code, str) else None


class Article(BaseModel):
    """One news article as it travels through the pipeline (message schema v1)."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    id: str = Field(min_length=1, max_length=200)
    title: str | None = None
    body: str
    published: str | None = None
    section: str | None = None
    authors: list[str] = Field(default_factory=list)
    source: str | None = None
    url: str | None = None
    language: str | None = None
    dateline: str | None = None
    lead: str | None = None
    subheadings: list[str] = Field(default_factory=list)
    captions: list[str] = Field(default_factory=list)
    author_code: str | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, v: Any) -> str | None:
        return normalize_published(v)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> Any:
        return normalize_language(v) if isinstance(v, str) else v

    @field_validator("body")
    @classmethod
    def _body(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty body")
        return v

    @property
    def published_date(self) -> date | None:
        return date.fromisoformat(self.published[:10]) if self.published else None

    @classmethod
    def build(cls, *, body: str, id: str | None = None, origin: str | None = None,
              max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, **fields: Any) -> Article:
        """Validate fields into an Article, computing the stable id when none is given.

        Raises InvalidArticle (with a reason code) naming ``origin`` on bad input.
        """
        cls.check_body(body, origin=origin, max_body_bytes=max_body_bytes)
        fields = {k: v for k, v in fields.items() if v is not None}
        return cls.from_fields(body, id, fields, origin=origin)

    @staticmethod
    def check_body(body: Any, *, origin: str | None, max_body_bytes: int) -> None:
        if not isinstance(body, str) or not body.strip():
            raise InvalidArticle("empty body", code=reasons.EMPTY_BODY, origin=origin)
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > max_body_bytes:
            raise InvalidArticle(f"body is {size} bytes, over the limit of {max_body_bytes}",
                                 code=reasons.BODY_TOO_LARGE, origin=origin)
        if "\x00" in body:
            raise InvalidArticle("body contains NUL bytes (binary input?)", code=reasons.BINARY, origin=origin)

    @classmethod
    def from_fields(cls, body: str, id: Any, fields: dict[str, Any], *, origin: str | None) -> Article:
        """Validate plain fields (any keys: unknown ones are refused by name, never taken as arguments)."""
        bad = _unencodable(body, fields, id)
        if bad:
            raise InvalidArticle(f"{bad}: not valid Unicode text (a lone surrogate?)", code=reasons.INVALID_FIELD,
                                 origin=origin)
        try:
            if id is None:
                id = article_id(url=_text(fields.get("url")), source=_text(fields.get("source")),
                                title=_text(fields.get("title")), body=body)
            return cls.model_validate({"id": str(id), "body": body, **fields})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "article"
            code = reasons.BAD_DATE if where == "published" else reasons.INVALID_FIELD
            raise InvalidArticle(f"{where}: {err['msg']}", code=code, origin=origin) from None
        except ValueError as exc:  # a URL the id cannot be computed from ("http://x:99999", "http://[::1")
            raise InvalidArticle(f"url: {exc}", code=reasons.INVALID_FIELD, origin=origin) from None


@dataclass(frozen=True)
class FieldMeta:
    """What the rest of the code needs to know of an Article field besides its type.

    ``keys``: the JSON keys a record may give it under, first present wins (ours first; news-please,
    BBC, Reuters and generic names after: ``pipeline.parsing.jsonrecords``); ``contract``: in the
    ``article`` block of ``newsstream extract --format jsonl``; ``stored``: a column of the articles
    table, written by the store and read back by reprocessing.
    """

    keys: tuple[str, ...]
    contract: bool = False
    stored: bool = True


# One row per Article field, in the model's order (a test and the check below hold them together).
FIELD_META: dict[str, FieldMeta] = {
    "id": FieldMeta(("id",), contract=True),
    "title": FieldMeta(("title", "headline"), contract=True),
    "body": FieldMeta(("body", "maintext", "text", "content")),
    "published": FieldMeta(("published", "date_publish", "date", "published_at", "pubDate"), contract=True),
    "section": FieldMeta(("section", "category"), contract=True),
    "authors": FieldMeta(("authors", "author"), contract=True),
    "source": FieldMeta(("source", "source_domain"), contract=True),
    "url": FieldMeta(("url", "link"), contract=True),
    "language": FieldMeta(("language", "lang"), contract=True),
    "dateline": FieldMeta(("dateline",), contract=True),
    "lead": FieldMeta(("lead", "description")),
    "subheadings": FieldMeta(("subheadings",)),
    "captions": FieldMeta(("captions",)),
    "author_code": FieldMeta(("author_code",)),
}
if list(FIELD_META) != list(Article.model_fields):
    raise RuntimeError(f"FIELD_META {list(FIELD_META)} does not match the Article fields {list(Article.model_fields)}")

FIELDS: tuple[str, ...] = tuple(Article.model_fields)  # the one list of an article's fields
LIST_FIELDS: tuple[str, ...] = tuple(n for n, f in Article.model_fields.items() if get_origin(f.annotation) is list)
CONTRACT_FIELDS: tuple[str, ...] = tuple(n for n in FIELDS if FIELD_META[n].contract)
STORED_FIELDS: tuple[str, ...] = tuple(n for n in FIELDS if FIELD_META[n].stored)


_SURROGATE = re.compile("[\ud800-\udfff]")  # the only code points UTF-8 cannot encode


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _unencodable(body: str, fields: dict[str, Any], id: Any) -> str | None:
    """The name of the first field holding text that is not valid Unicode, or None."""
    for name, value in (("body", body), ("id", id), *fields.items()):
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return name
        elif isinstance(value, list) and any(isinstance(item, str) and _SURROGATE.search(item) for item in value):
            return name
    return None


def encode(article: Article) -> bytes:
    """Schema v1 message value: UTF-8 JSON with ``schema_version``."""
    data = {"schema_version": SCHEMA_VERSION, **article.model_dump(exclude_none=True)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(value: bytes | None, *, origin: str | None = None,
           max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Article:
    """Parse a message value; raises InvalidArticle with a reason code on anything but schema v1."""
    if value is None:
        raise InvalidArticle("message has no value", code=reasons.NO_VALUE, origin=origin)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArticle(f"value is not UTF-8 ({exc.reason} at byte {exc.start})",
                             code=reasons.BAD_ENCODING, origin=origin) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArticle(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                             code=reasons.BAD_JSON, origin=origin) from None
    except RecursionError:
        raise InvalidArticle("invalid JSON: nested too deeply", code=reasons.BAD_JSON, origin=origin) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidArticle(f"invalid JSON: {exc}", code=reasons.BAD_JSON, origin=origin) from None
    if not isinstance(data, dict):
        raise InvalidArticle(f"expected a JSON object, got {type(data).__name__}", code=reasons.BAD_SHAPE,
                             origin=origin)
    version = data.pop("schema_version", None)
    if version != SCHEMA_VERSION:
        raise InvalidArticle(f"unknown schema_version {version!r} (this worker reads {SCHEMA_VERSION})",
                             code=reasons.BAD_SCHEMA_VERSION, origin=origin)
    body = data.pop("body", None)
    if not isinstance(body, str):
        raise InvalidArticle("missing body", code=reasons.MISSING_BODY, origin=origin)
    Article.check_body(body, origin=origin, max_body_bytes=max_body_bytes)
    return Article.from_fields(body, data.pop("id", None), {k: v for k, v in data.items() if v is not None},
                               origin=origin)
