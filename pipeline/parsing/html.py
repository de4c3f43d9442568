"""HTML (feed summaries, ``content:encoded``) -> plain text with paragraphs separated by blank lines."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "section", "article", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
          "table", "tr", "pre", "figure", "figcaption", "header", "footer", "hr", "dd", "dt"}
_SKIP = {"script", "style", "noscript", "template", "iframe", "svg", "head"}
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*>|&[#\w]+;")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.rsplit(":", 1)[-1]  # inline XHTML serialized with a namespace prefix
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        tag = tag.rsplit(":", 1)[-1]
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    return bool(_MARKUP.search(text))


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, scripts and styles removed,
    block elements turned into paragraphs (blank lines) and ``<br>`` into line breaks."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    paragraphs = (" ".join(line.split()) for line in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
