"""RSS 2.0, RSS 1.0 (RDF) and Atom documents -> Articles (or rejections naming the feed item).

Namespace-agnostic: elements are matched by local name. HTML in summaries and content is
turned into text. An item without a date is accepted (``published`` null); an item with a
date that cannot be read is rejected (``bad_date``), like a JSON record.

Hostile XML: documents are parsed with defusedxml, which refuses entity declarations and
external references (billion laughs, quadratic blowup, XXE: ``file://`` or ``http://`` entities)
before anything is expanded or fetched; such a feed is refused whole (``bad_feed``). A feed that
is not quite well-formed (a stray ``&``, an HTML entity XML does not know, a tag left open) is
read by feedparser's tolerant parser instead of being refused; feedparser drops entity
declarations it does not consider safe, and is handed the bytes as a stream, never as a name
it could open or fetch.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from pipeline import reasons
from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article, normalize_published
from pipeline.parsing.html import html_to_text, looks_like_html
from pipeline.parsing.reader import build_many
from pipeline.records import Refusal

_ITEMS = ("item", "entry")
BLOCK_ITEMS = 500  # items read, then built (their languages detected together), at a time


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


Kids = dict[str, list[ET.Element]]


def _kids(el: ET.Element) -> Kids:
    """An element's children by local name, in document order: one pass over them."""
    kids: Kids = {}
    for child in el:
        kids.setdefault(_local(child.tag), []).append(child)
    return kids


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


def _first(kids: Kids, *names: str) -> ET.Element | None:
    for name in names:
        found = kids.get(name)
        if found:
            return found[0]
    return None


def _link(kids: Kids) -> str | None:
    for link in kids.get("link", ()):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return href.strip()
        if not href and link.text and link.text.strip():
            return link.text.strip()
    guid = _first(kids, "guid")
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
            who = _first(_kids(el), "name")
            value = (who.text if who is not None else el.text) or ""
        elif name == "creator":
            value = el.text or ""
        else:
            continue
        if value.strip():
            out.append(value.strip())
    return out


def item_fields(item: ET.Element, *, origin: str, source: str | None,
                language: str | None) -> dict[str, Any] | Refusal:
    kids = _kids(item)
    summary = _text_of(_first(kids, "description", "summary"))
    content = _text_of(_first(kids, "encoded", "content"))
    body = content or summary
    if not body:
        return Refusal(origin, reasons.EMPTY_BODY, "the item has no description, summary or content")
    fields: dict[str, Any] = {"title": _text_of(_first(kids, "title")), "body": body, "url": _link(kids),
                              "source": source, "authors": _authors(item) if "author" in kids or "creator" in kids
                              else []}
    if content and summary and summary != content:
        fields["lead"] = summary
    category = _first(kids, "category")
    if category is not None:
        fields["section"] = (category.get("term") or category.text or "").strip() or None
    if language:
        fields["language"] = language
    date = _first(kids, "pubDate", "published", "date", "issued", "updated", "modified")
    when = (date.text or "").strip() if date is not None else ""
    if date is not None and when:
        try:
            fields["published"] = parse_feed_date(when)
        except ValueError:
            return Refusal(origin, reasons.BAD_DATE, f"{_local(date.tag)} {when!r} is not a date")
    return fields


def parse_feed(data: bytes, url: str, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               languages: Collection[str] = ()) -> Iterator[Article | Refusal]:
    """Articles from one fetched feed document; items are named ``URL item N`` in rejections."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        yield Refusal(url, reasons.BAD_FEED, f"refused: the document declares XML entities or external references "
                       f"({type(exc).__name__}); a feed needs neither")
        return
    except ET.ParseError as exc:
        yield from _tolerant(data, url, str(exc), max_body_bytes, {lang.lower() for lang in languages})
        return
    if _local(root.tag) not in ("rss", "feed", "RDF"):
        yield Refusal(url, reasons.BAD_FEED, f"not an RSS or Atom feed (root element <{_local(root.tag)}>)")
        return
    channel = _first(_kids(root), "channel")
    head = _kids(channel if channel is not None and _local(root.tag) == "rss" else root)
    title = _text_of(_first(head, "title"))
    source = title or (urlsplit(url).hostname or "").removeprefix("www.") or None
    lang_el = _first(head, "language")
    lang = (lang_el.text or "").strip()[:2].lower() if lang_el is not None else ""
    lang_attr = root.get("{http://www.w3.org/XML/1998/namespace}lang", "")[:2].lower()
    language = lang or lang_attr or None
    wanted = {lang.lower() for lang in languages}
    items = [el for el in root.iter() if _local(el.tag) in _ITEMS]
    for first in range(0, len(items), BLOCK_ITEMS):
        staged: list[tuple[str, dict[str, Any] | Refusal]] = []
        for number, item in enumerate(items[first:first + BLOCK_ITEMS], start=first + 1):
            origin = f"{url} item {number}"
            staged.append((origin, item_fields(item, origin=origin, source=source, language=language)))
            item.clear()  # read: its subtree is freed as the articles pile up
        yield from build_many(staged, max_body_bytes, wanted)


def _html_text(value: str | None) -> str | None:
    text = html_to_text(value) if value and looks_like_html(value) else (value or "")
    return text.strip() or None


def _tolerant(data: bytes, url: str, error: str, max_body_bytes: int,
              languages: Collection[str]) -> Iterator[Article | Refusal]:
    """A feed that is not well-formed XML, read by feedparser's lenient parser."""
    import feedparser

    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=True)
    entries = parsed.get("entries") or []
    if not entries:
        yield Refusal(url, reasons.BAD_FEED, f"not well-formed XML ({error}), and no feed item could be read from it")
        return
    feed = parsed.get("feed") or {}
    source = _html_text(feed.get("title")) or (urlsplit(url).hostname or "").removeprefix("www.") or None
    language = (feed.get("language") or "")[:2].lower() or None
    origins = [f"{url} item {number}" for number in range(1, len(entries) + 1)]
    yield from build_many([(origin, _entry_fields(entry, origin=origin, source=source, language=language))
                           for origin, entry in zip(origins, entries, strict=True)], max_body_bytes, languages)


def _entry_fields(entry: Any, *, origin: str, source: str | None, language: str | None) -> dict[str, Any] | Refusal:
    summary = _html_text(entry.get("summary"))
    contents = [c.get("value") for c in entry.get("content") or [] if c.get("value")]
    content = _html_text(contents[0]) if contents else None
    body = content or summary
    if not body:
        return Refusal(origin, reasons.EMPTY_BODY, "the item has no description, summary or content")
    authors = [a.get("name", "").strip() for a in entry.get("authors") or [] if a.get("name", "").strip()]
    title = " ".join((_html_text(entry.get("title")) or "").split()) or None
    fields: dict[str, Any] = {"title": title, "body": body,
                              "url": (entry.get("link") or "").strip() or None, "source": source,
                              "authors": authors}
    if content and summary and summary != content:
        fields["lead"] = summary
    tags = [t.get("term", "").strip() for t in entry.get("tags") or [] if t.get("term", "").strip()]
    if tags:
        fields["section"] = tags[0]
    if language:
        fields["language"] = language
    when = (entry.get("published") or entry.get("updated") or "").strip()
    if when:
        try:
            fields["published"] = parse_feed_date(when)
        except ValueError:
            return Refusal(origin, reasons.BAD_DATE, f"date {when!r} is not a date")
    return fields
