"""The Article model, message schema v1 (encode/decode) and stable article ids.

Knows nothing of Kafka, SQL or spaCy.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import InvalidArticle

SCHEMA_VERSION = 1
DEFAULT_MAX_BODY_BYTES = 1_000_000

_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.I)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop fragments, tracking parameters and trailing slashes."""
    parts = urlsplit(url.strip())
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


def normalize_published(value: Any) -> str | None:
    """ISO 8601 text: ``YYYY-MM-DD`` for dates, ``YYYY-MM-DDTHH:MM:SS[+HH:MM]`` for times."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text).isoformat()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    from dateutil import parser as dateparser  # slower, only for unusual formats

    try:
        return dateparser.parse(text).isoformat()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unparseable date {text!r}") from exc


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
            raise InvalidArticle("empty body", code="empty_body", origin=origin)
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > max_body_bytes:
            raise InvalidArticle(f"body is {size} bytes, over the limit of {max_body_bytes}",
                                 code="body_too_large", origin=origin)
        if "\x00" in body:
            raise InvalidArticle("body contains NUL bytes (binary input?)", code="binary", origin=origin)

    @classmethod
    def from_fields(cls, body: str, id: Any, fields: dict[str, Any], *, origin: str | None) -> Article:
        """Validate plain fields (any keys: unknown ones are refused by name, never taken as arguments)."""
        bad = _unencodable(body, fields, id)
        if bad:
            raise InvalidArticle(f"{bad}: not valid Unicode text (a lone surrogate?)", code="invalid_field",
                                 origin=origin)
        try:
            if id is None:
                id = article_id(url=_text(fields.get("url")), source=_text(fields.get("source")),
                                title=_text(fields.get("title")), body=body)
            return cls.model_validate({"id": str(id), "body": body, **fields})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "article"
            code = "bad_date" if where == "published" else "invalid_field"
            raise InvalidArticle(f"{where}: {err['msg']}", code=code, origin=origin) from None
        except ValueError as exc:  # a URL the id cannot be computed from ("http://x:99999", "http://[::1")
            raise InvalidArticle(f"url: {exc}", code="invalid_field", origin=origin) from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _unencodable(body: str, fields: dict[str, Any], id: Any) -> str | None:
    """The name of the first field holding text that is not valid Unicode, or None."""
    for name, value in (("body", body), ("id", id), *fields.items()):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
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
        raise InvalidArticle("message has no value", code="no_value", origin=origin)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArticle(f"value is not UTF-8 ({exc.reason} at byte {exc.start})",
                             code="bad_encoding", origin=origin) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArticle(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                             code="bad_json", origin=origin) from None
    except RecursionError:
        raise InvalidArticle("invalid JSON: nested too deeply", code="bad_json", origin=origin) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidArticle(f"invalid JSON: {exc}", code="bad_json", origin=origin) from None
    if not isinstance(data, dict):
        raise InvalidArticle(f"expected a JSON object, got {type(data).__name__}", code="bad_shape",
                             origin=origin)
    version = data.pop("schema_version", None)
    if version != SCHEMA_VERSION:
        raise InvalidArticle(f"unknown schema_version {version!r} (this worker reads {SCHEMA_VERSION})",
                             code="bad_schema_version", origin=origin)
    body = data.pop("body", None)
    if not isinstance(body, str):
        raise InvalidArticle("missing body", code="missing_body", origin=origin)
    Article.check_body(body, origin=origin, max_body_bytes=max_body_bytes)
    return Article.from_fields(body, data.pop("id", None), {k: v for k, v in data.items() if v is not None},
                               origin=origin)
