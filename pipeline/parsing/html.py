"""HTML (feed summaries, ``content:encoded``) -> plain text, and the boilerplate of news pages out of text.

The HTML is read by lxml's parser (libxml2: one pass, no backtracking, no depth limit that loses
text) as a stream of events; paragraphs are separated by blank lines, ``<br>`` and table rows
become line breaks and table cells are separated by `` | ``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

_BLOCK = {"p", "div", "section", "article", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
          "table", "pre", "figure", "figcaption", "header", "footer", "hr", "dd", "dt", "main", "aside", "nav",
          "address", "dl", "caption", "form", "fieldset"}
_SKIP = {"script", "style", "noscript", "template", "iframe", "svg", "head", "object", "select"}
_CELLS = {"td", "th"}
# Linear: a tag ends at the first ">" or "<"; an entity is letters or digits only.
_MARKUP = re.compile(r"<[a-zA-Z/!][^<>]*>|&[#\w]+;")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_HORIZONTAL = re.compile(r"[^\S\n]+")


class _Text:
    """lxml parser target: collects the visible text as events arrive (no tree is built)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.skipping = 0
        self.cells = 0  # cells seen in the current table row

    def start(self, tag: str, attrib: object) -> None:
        tag = _local(tag)
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "tr":
            self.parts.append("\n")
            self.cells = 0
        elif tag in _CELLS:
            if self.cells:
                self.parts.append(" | ")
            self.cells += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def end(self, tag: str) -> None:
        tag = _local(tag)
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "tr":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def comment(self, text: str) -> None:
        pass

    def close(self) -> str:
        return "".join(self.parts)


def _local(tag: object) -> str:
    """``xhtml:p`` or ``{ns}p`` -> ``p`` (inline XHTML serialized with a namespace prefix)."""
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def looks_like_html(text: str) -> bool:
    return bool(_MARKUP.search(text))


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, scripts and styles removed,
    block elements turned into paragraphs (blank lines), ``<br>`` and table rows into line breaks."""
    from lxml import etree

    target = _Text()
    parser = etree.HTMLParser(target=target, encoding="utf-8", no_network=True, huge_tree=True)
    try:
        parser.feed(html.encode("utf-8", "replace"))
        text = parser.close()
    except etree.LxmlError:  # lxml gave up on it: the text between the tags still counts
        text = re.sub(r"<[^<>]*>", " ", html)
    return tidy(text.replace("\xa0", " "))


def tidy(text: str) -> str:
    """Paragraphs separated by one blank line; in each, lines without surrounding or repeated spaces."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(text):
        lines = (_HORIZONTAL.sub(" ", line).strip() for line in block.split("\n"))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


@lru_cache(maxsize=1)
def boilerplate() -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The patterns of ``boilerplate.txt`` as two expressions: lines to drop (matched against a whole
    stripped line) and line ends to trim (``trim REGEX``)."""
    source = resources.files("pipeline.parsing").joinpath("boilerplate.txt").read_text(encoding="utf-8")
    drop: list[str] = []
    trim: list[str] = []
    for line in source.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("trim "):
            trim.append(line.removeprefix("trim ").strip())
        else:
            drop.append(line)
    return (re.compile("|".join(f"(?:{p})" for p in drop)),
            re.compile("(?:" + "|".join(f"(?:{p})" for p in trim) + r")\s*$") if trim else None)


MAX_BOILERPLATE_LINE = 2_000  # longer lines are text, never boilerplate (and matching stays cheap)


def strip_boilerplate(text: str) -> str:
    """``text`` without the lines that are page furniture (video captions, "JUST WATCHED", newsletter
    sign-ups, "Advertisement", gallery buttons...); the text itself when there are none."""
    drop, trim = boilerplate()
    kept: list[str] = []
    changed = False
    for line in text.split("\n"):
        if len(line) <= MAX_BOILERPLATE_LINE:
            if drop.fullmatch(line.strip()):
                changed = True
                continue
            if trim is not None and (m := trim.search(line)):
                line, changed = line[: m.start()], True
        kept.append(line)
    if not changed:
        return text
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
