"""Feed documents and HTML -> articles, without a broker: RSS 2.0, Atom, RDF, and what is refused."""

from __future__ import annotations

from pipeline.article import Article, article_id
from pipeline.parsing import Rejected
from pipeline.parsing.feeds import parse_feed
from pipeline.parsing.html import html_to_text

ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>Nord Kurier</title>
<entry><title type="html">Hafen &lt;i&gt;offen&lt;/i&gt;</title>
 <link rel="self" href="https://kurier.example/api/1"/><link rel="alternate" href="https://kurier.example/1"/>
 <id>urn:1</id><published>2024-05-01T10:00:00Z</published><updated>2024-05-02T08:00:00Z</updated>
 <summary>Kurz gesagt.</summary>
 <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Der Hafen ist <b>offen</b>.</p>
 <p>Zweiter Absatz.</p></div></content><author><name>Eva Maier</name></author>
 <category term="Wirtschaft"/></entry>
</feed>"""

RDF = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Old Wire</title></channel>
<item><title>Wire story</title><link>https://wire.example/7</link><description>Plain text.</description>
<dc:date>2003-12-13T18:30:02Z</dc:date><dc:creator>J. Smith</dc:creator></item></rdf:RDF>"""


def test_html_becomes_paragraphs_of_text_without_scripts_or_entities() -> None:
    html = ("<div><p>Ships&nbsp;queued &amp; waited.</p><script>track()</script><style>p{}</style>"
            "<ul><li>one</li><li>two</li></ul>Line<br>break</div>")
    assert html_to_text(html) == "Ships queued & waited.\n\none\n\ntwo\n\nLine\nbreak"  # <br> stays a line break


def test_atom_entries_take_the_alternate_link_the_content_and_the_feed_language() -> None:
    (article,) = parse_feed(ATOM, "https://kurier.example/atom")
    assert isinstance(article, Article)
    assert (article.title, article.url, article.body, article.lead) == (
        "Hafen offen", "https://kurier.example/1", "Der Hafen ist offen.\n\nZweiter Absatz.", "Kurz gesagt.")
    assert (article.published, article.authors, article.section, article.language, article.source) == (
        "2024-05-01T10:00:00+00:00", ["Eva Maier"], "Wirtschaft", "de", "Nord Kurier")
    assert article.id == article_id(url="https://kurier.example/1", source=None, title=None, body="")


def test_rss_1_rdf_items_are_read() -> None:
    (article,) = parse_feed(RDF, "https://wire.example/rdf")
    assert isinstance(article, Article)
    assert (article.title, article.published, article.authors) == (
        "Wire story", "2003-12-13T18:30:02+00:00", ["J. Smith"])


def test_a_language_filter_refuses_items_in_other_languages_naming_the_item() -> None:
    (item,) = parse_feed(ATOM, "https://kurier.example/atom", languages={"en"})
    assert isinstance(item, Rejected) and (item.origin, item.code) == ("https://kurier.example/atom item 1",
                                                                       "language")


def test_what_is_not_a_feed_is_refused_once_with_the_reason() -> None:
    (bad,) = parse_feed(b"<html><body>hi</body></html>", "https://x.example/")
    assert isinstance(bad, Rejected) and bad.code == "bad_feed" and "<html>" in bad.reason
    (broken,) = parse_feed(b"<rss><channel", "https://x.example/rss")  # broken beyond what a tolerant parser reads
    assert isinstance(broken, Rejected) and broken.code == "bad_feed" and "not well-formed" in broken.reason
    assert "no feed item could be read" in broken.reason
