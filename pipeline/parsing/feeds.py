"""RSS 2.0, RSS 1.0 (RDF) and Atom documents -> Articles (or rejections naming the feed item).

Namespace-agnostic: elements are matched by local name. HTML in summaries and content is
turned into text. An item without a date is accepted (``published`` null); an item with a
date that cannot be read is rejected (``bad_date``), like a JSON record.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article, normalize_published
from pipeline.parsing.html import html_to_text, looks_like_html
from pipeline.parsing.reader import Rejected, _build

_ITEMS = ("item", "entry")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _text_of(el: ET.Element | None) -> str | None:
    """Text of an element; HTML (escaped or inline XHTML) becomes plain text."""
    if el is None:
        return None
    if el.get("type") == "xhtml" or len(el):
        raw = "".join(ET.tostring(c, encoding="unicode") for c in el)
        text = html_to_text((el.text or "") + raw)
    else:
        text = el.text or ""
        if el.get("type") == "html" or looks_like_html(text):
            text = html_to_text(text)
    text = text.strip()
    return text or None


def _first(el: ET.Element, *names: str) -> ET.Element | None:
    for name in names:
        found = _children(el, name)
        if found:
            return found[0]
    return None


def _link(item: ET.Element) -> str | None:
    for link in _children(item, "link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return href.strip()
        if not href and link.text and link.text.strip():
            return link.text.strip()
    guid = _first(item, "guid")
    permalink = (guid.text or "").strip() if guid is not None and guid.get("isPermaLink", "true") == "true" else ""
    if permalink.startswith("http"):
        return permalink
    return None


def parse_feed_date(text: str) -> str:
    """RFC 822 (RSS) or ISO 8601 (Atom) -> ISO 8601; ValueError when unreadable."""
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        result = normalize_published(text)
        if result is None:
            raise ValueError(f"unparseable date {text!r}") from None
        return result


def _authors(item: ET.Element) -> list[str]:
    out = []
    for el in item:
        name = _local(el.tag)
        if name == "author":
            who = _first(el, "name")
            value = (who.text if who is not None else el.text) or ""
        elif name == "creator":
            value = el.text or ""
        else:
            continue
        if value.strip():
            out.append(value.strip())
    return out


def item_fields(item: ET.Element, *, origin: str, source: str | None,
                language: str | None) -> dict[str, Any] | Rejected:
    summary = _text_of(_first(item, "description", "summary"))
    content = _text_of(_first(item, "encoded", "content"))
    body = content or summary
    if not body:
        return Rejected(origin, "empty_body", "the item has no description, summary or content")
    fields: dict[str, Any] = {"title": _text_of(_first(item, "title")), "body": body, "url": _link(item),
                              "source": source, "authors": _authors(item)}
    if content and summary and summary != content:
        fields["lead"] = summary
    category = _first(item, "category")
    if category is not None:
        fields["section"] = (category.get("term") or category.text or "").strip() or None
    if language:
        fields["language"] = language
    date = _first(item, "pubDate", "published", "date", "issued", "updated", "modified")
    when = (date.text or "").strip() if date is not None else ""
    if date is not None and when:
        try:
            fields["published"] = parse_feed_date(when)
        except ValueError:
            return Rejected(origin, "bad_date", f"{_local(date.tag)} {when!r} is not a date")
    return fields


def parse_feed(data: bytes, url: str, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               languages: Collection[str] = ()) -> Iterator[Article | Rejected]:
    """Articles from one fetched feed document; items are named ``URL item N`` in rejections."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        yield Rejected(url, "bad_feed", f"not well-formed XML: {exc}")
        return
    if _local(root.tag) not in ("rss", "feed", "RDF"):
        yield Rejected(url, "bad_feed", f"not an RSS or Atom feed (root element <{_local(root.tag)}>)")
        return
    channel = _first(root, "channel")
    head = channel if channel is not None and _local(root.tag) == "rss" else root
    title = _text_of(_first(head, "title"))
    source = title or (urlsplit(url).hostname or "").removeprefix("www.") or None
    lang_el = _first(head, "language")
    lang = (lang_el.text or "").strip()[:2].lower() if lang_el is not None else ""
    lang_attr = root.get("{http://www.w3.org/XML/1998/namespace}lang", "")[:2].lower()
    language = lang or lang_attr or None
    items = [el for el in root.iter() if _local(el.tag) in _ITEMS]
    for number, item in enumerate(items, start=1):
        origin = f"{url} item {number}"
        fields = item_fields(item, origin=origin, source=source, language=language)
        if isinstance(fields, Rejected):
            yield fields
        else:
            yield _build(fields, origin, max_body_bytes, {lang.lower() for lang in languages})
