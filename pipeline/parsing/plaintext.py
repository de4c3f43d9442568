"""The plain-text article format of the seed article.

::

     date 2023-07-03 Home page politics        <- header: date and section breadcrumb
    From: Jane Doe and John Roe               <- byline (optional; "By:" works too)
    Title: ...                                <- optional header line; else the lead's first sentence
    Lead paragraph.                           <- the first paragraph after the byline
    MINSK – First paragraph with a dateline.
    A subheading on its own
    A photo caption. © dpa                    <- captions end in a credit
    Last paragraph. (erpe)                    <- trailing author code

Paragraphs are separated by blank lines. ``body`` is what the NLP reads: the lead,
the paragraphs and the subheadings, joined by blank lines, without header, byline,
captions and author code; the dateline stays at the start of its paragraph.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pipeline import reasons
from pipeline.article import article_id
from pipeline.errors import InvalidArticle

_HEADER = re.compile(r"date\b:?\s*(?P<date>\S*\d\S*)\s*(?P<crumb>.*)", re.I)
_HEADER_FIELD = re.compile(r"(?P<key>from|by|title|headline)\s*:\s*(?P<value>.*)", re.I)
_BREADCRUMB_SEP = re.compile(r"[>›»/|·]")  # no \s* around it: split stays linear; parts are stripped
_NAV_PREFIX = re.compile(r"^(?:home\s*page|homepage|home|start\s*page|front\s*page|startseite)\b\s*", re.I)
_AUTHOR_SEP = re.compile(r",|;|&|\band\b")  # parts are stripped
# City in capitals (optionally ", Feb 26" or "(Reuters)") then an en/em dash, "--", or " - ".
_DATELINE = re.compile(
    r"(?P<city>[^\W\d_][\w.'’\- ]{1,40}?)(?:\s{0,8}\([^)\n]{1,30}\))?(?:,[^–—\n]{1,30}?)?"
    r"(?:\s{0,8}[–—]|\s{1,8}--?\s)"  # bounded runs of spaces: a long one cannot make it backtrack
)
_CREDIT = re.compile(
    r"(?:©\s*\S.{0,60}|\(?\b(?:photos?|pictures?|image|foto|credit)\s*:\s*[^()\n]{1,60}\)?)$", re.I
)
_AUTHOR_CODE = re.compile(r"\((?P<code>[a-z]{2,8}(?:\s*[/,]\s*[A-Za-z]{2,8})*)\)$")  # no leading \s*: linear
_CLOSING = ".!?:;,…"
_QUOTES = "\"'’”»)]›"
_MAX_SUBHEADING_WORDS = 15


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """(first line number, paragraph text with its lines joined by spaces).

    The first line (the header) is a paragraph of its own even when no blank line follows it.
    """
    result: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if current and (not stripped or not result):  # a blank line, or the header line, ends it
            result.append((start, " ".join(current)))
            current = []
        if stripped:
            if not current:
                start = number
            current.append(stripped)
    if current:
        result.append((start, " ".join(current)))
    return result


def parse_section(breadcrumb: str) -> str | None:
    """The meaningful end of a breadcrumb: "Home page politics" -> "politics", "News > World" -> "World"."""
    parts = [p.strip() for p in _BREADCRUMB_SEP.split(breadcrumb) if p.strip()]
    if not parts:
        return None
    section = _NAV_PREFIX.sub("", parts[-1]).strip()
    return section or None


def split_authors(value: str) -> list[str]:
    return [a for a in (p.strip().strip(" .").strip() for p in _AUTHOR_SEP.split(value)) if a]


def find_dateline(paragraph: str) -> str | None:
    """The city of a dateline such as ``MINSK – ...`` (as written), or None."""
    match = _DATELINE.match(paragraph)
    if not match:
        return None
    city = match.group("city").strip()
    letters = [c for c in city if c.isalpha()]
    return city if len(letters) >= 2 and city.isupper() else None


def is_caption(paragraph: str) -> bool:
    return bool(_CREDIT.search(paragraph)) and len(paragraph.split()) <= 80


def is_subheading(paragraph: str) -> bool:
    words = paragraph.split()
    if not words or len(words) > _MAX_SUBHEADING_WORDS or len(paragraph) > 140:
        return False
    return paragraph.rstrip(_QUOTES)[-1:] not in _CLOSING


def _header(paragraphs: list[tuple[int, str]], origin: str) -> tuple[str, str, int]:
    if not paragraphs:
        raise InvalidArticle("empty file: no 'date YYYY-MM-DD section' header", code=reasons.MISSING_DATE,
                             origin=f"{origin}:1")
    line_no, first = paragraphs[0]
    match = _HEADER.match(first)
    if not match:
        raise InvalidArticle(f"first line {first[:60]!r} is not a 'date YYYY-MM-DD section' header",
                             code=reasons.MISSING_DATE, origin=f"{origin}:{line_no}")
    raw = match.group("date")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        published = date.fromisoformat(raw).isoformat()
    except ValueError:
        raise InvalidArticle(f"date {raw!r} is not a YYYY-MM-DD date", code=reasons.BAD_DATE,
                             origin=f"{origin}:{line_no}") from None
    return published, match.group("crumb"), line_no


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”»]?\s+(?=[\"'‘“„«(]?[A-Z0-9À-Þ])")
_MAX_TITLE = 150


def seed_title(fields: dict[str, Any]) -> str | None:
    """A title for a seed-format text without a ``Title:`` line: the first sentence of its lead (else
    of its body), without a closing full stop, cut at a word near 150 characters."""
    text = fields.get("lead") or (fields.get("body") or "").split("\n\n", 1)[0]
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    if len(sentence) > _MAX_TITLE:
        sentence = sentence[:_MAX_TITLE].rsplit(" ", 1)[0].rstrip(",;:–—- ") + "…"
    sentence = sentence.removesuffix(".").strip()
    return sentence or None


def parse_plaintext(text: str, *, origin: str) -> dict[str, Any]:
    """Article fields from one article in the seed's plain-text format.

    ``origin`` names the input (a path or ``<stdin>``); errors name ``origin:line``.
    Raises InvalidArticle with code ``missing_date``, ``bad_date`` or ``empty_body``.
    """
    paragraphs = _paragraphs(text.lstrip("\ufeff"))
    published, crumb, _ = _header(paragraphs, origin)
    fields: dict[str, Any] = {"published": published, "section": parse_section(crumb), "authors": [],
                              "author_code": None, "dateline": None, "lead": None, "subheadings": [],
                              "captions": []}
    rest = paragraphs[1:]
    while rest and (m := _HEADER_FIELD.fullmatch(rest[0][1])):
        key, value = m.group("key").lower(), m.group("value").strip()
        if key in ("from", "by"):
            fields["authors"] += split_authors(value)
        elif value:
            fields["title"] = value
        rest = rest[1:]
    if rest and (m := _AUTHOR_CODE.search(rest[-1][1])):
        fields["author_code"] = m.group("code")
        line_no, last = rest[-1]
        last = last[: m.start()].rstrip()
        rest = [*rest[:-1], (line_no, last)] if last else rest[:-1]
    body: list[str] = []
    for index, (_, paragraph) in enumerate(rest):
        if is_caption(paragraph):
            fields["captions"].append(paragraph)
            continue
        if fields["dateline"] is None and index < 3 and (city := find_dateline(paragraph)):
            fields["dateline"] = city
        elif not body and fields["lead"] is None:
            fields["lead"] = paragraph
        elif is_subheading(paragraph):
            fields["subheadings"].append(paragraph)
        body.append(paragraph)
    if not body:
        raise InvalidArticle("no text after the header and byline", code=reasons.EMPTY_BODY,
                             origin=f"{origin}:{paragraphs[-1][0]}")
    fields["body"] = "\n\n".join(body)
    if not fields.get("title"):  # no Title: line: titled by its lead, with the id it had untitled
        fields["id"] = article_id(url=None, source=None, title=None, body=fields["body"])
        fields["title"] = seed_title(fields)
    return fields
