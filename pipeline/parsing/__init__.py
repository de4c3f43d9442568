"""Input parsing: plain-text articles, JSON records (ours, news-please, BBC, Reuters), RSS/Atom feeds -> Articles."""

from pipeline.parsing.feeds import parse_feed
from pipeline.parsing.html import html_to_text
from pipeline.parsing.jsonrecords import from_record
from pipeline.parsing.language import detect_language
from pipeline.parsing.plaintext import parse_plaintext
from pipeline.parsing.reader import Rejected, parse_bytes, read_articles
from pipeline.records import Refusal

__all__ = ["Refusal", "Rejected", "detect_language", "from_record", "html_to_text", "parse_bytes", "parse_feed",
           "parse_plaintext", "read_articles"]
