"""The seed's plain-text format: header, byline, lead, dateline, subheadings, captions, author code."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import InvalidArticle
from pipeline.parsing import parse_plaintext
from pipeline.parsing.plaintext import find_dateline, parse_section
from tests.conftest import SAMPLES, shared_path

ARTICLE = """\
  date 2024-01-09 News > World > Europe

From: Ana Lima, Ben Stone and Chloé Martin

A short lead paragraph about a meeting. It has two sentences.

VIENNA – The first paragraph names the city
on two lines of the file.

A subheading without punctuation

Ministers shake hands in Vienna. Photo: Jan Novak

Another paragraph of the article. (alb/bst)
"""


@pytest.mark.shared
def test_seed_parses_exactly_as_its_answer_key_says() -> None:
    seed = shared_path("seed", "lukashenko-wagner-2023-07-03.txt")
    gold = json.loads(seed.with_name("lukashenko-wagner-2023-07-03.gold.json").read_text("utf-8"))
    fields = parse_plaintext(seed.read_text("utf-8"), origin=str(seed))
    for key, expected in gold["article"].items():
        assert fields[key] == expected, key
    body = fields["body"]
    assert body.startswith(gold["article"]["lead"] + "\n\nMINSK – Belarusian President")
    for heading in gold["article"]["subheadings"]:
        assert f"\n\n{heading}\n\n" in body
    for gone in ["Erkan Pehlivan", "Home page", "© dpa", "press conference", "(erpe)", "date 2023"]:
        assert gone not in body
    assert body.endswith("Whether and when Prigozhin can return to Russia is not certain.")
    # the format has no title line: the lead's first sentence serves as one (the answer key has none)
    assert fields["title"] == ("Shortly after the head of the Wagner Group arrives in Belarus, the ruler Lukashenko "
                               "offers cooperation")


def test_every_field_of_the_format() -> None:
    fields = parse_plaintext(ARTICLE, origin="a.txt")
    assert fields["published"] == "2024-01-09"
    assert fields["section"] == "Europe"
    assert fields["authors"] == ["Ana Lima", "Ben Stone", "Chloé Martin"]
    assert fields["lead"] == "A short lead paragraph about a meeting. It has two sentences."
    assert fields["dateline"] == "VIENNA"
    assert fields["subheadings"] == ["A subheading without punctuation"]
    assert fields["captions"] == ["Ministers shake hands in Vienna. Photo: Jan Novak"]
    assert fields["author_code"] == "alb/bst"
    assert fields["body"] == (
        "A short lead paragraph about a meeting. It has two sentences.\n\n"
        "VIENNA – The first paragraph names the city on two lines of the file.\n\n"
        "A subheading without punctuation\n\n"
        "Another paragraph of the article."
    )


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.txt")), ids=lambda p: p.name)
def test_each_sample_parses_with_every_part(path) -> None:
    fields = parse_plaintext(path.read_text("utf-8"), origin=str(path))
    assert fields["published"] == path.name[:10]
    assert fields["section"] and fields["authors"] and fields["lead"] and fields["author_code"]
    assert len(fields["subheadings"]) == 1
    assert len(fields["captions"]) == 1 and fields["captions"][0].endswith("© newsstream")
    paragraphs = fields["body"].split("\n\n")
    assert paragraphs[0] == fields["lead"]
    assert paragraphs[1].startswith(fields["dateline"] + " ")
    assert 200 <= len(fields["body"].split()) <= 350
    assert "©" not in fields["body"] and f"({fields['author_code']})" not in fields["body"]


@pytest.mark.parametrize(("line", "city"), [
    ("MINSK – Text", "MINSK"),
    ("BREST — Text", "BREST"),
    ("NAIROBI - Text", "NAIROBI"),
    ("BEIJING -- Text", "BEIJING"),
    ("THE HAGUE – Text", "THE HAGUE"),
    ("RIO DE JANEIRO – Text", "RIO DE JANEIRO"),
    ("SALVADOR, Feb 26 - Text", "SALVADOR"),
    ("LONDON (Reuters) - Text", "LONDON"),
    ("Minsk – the city is not in capitals", None),
    ("A well-known fact - and more", None),
    ("The UN-backed plan – approved", None),
    ("EU-US talks stalled on Monday.", None),
])
def test_dateline_detection(line: str, city: str | None) -> None:
    assert find_dateline(line) == city


@pytest.mark.parametrize(("crumb", "section"), [
    ("Home page politics", "politics"),
    ("Home politics", "politics"),
    ("News > World > Europe", "Europe"),
    ("sport / football", "football"),
    ("business", "business"),
    ("", None),
])
def test_section_is_the_meaningful_end_of_the_breadcrumb(crumb: str, section: str | None) -> None:
    assert parse_section(crumb) == section


def test_no_lead_when_the_first_paragraph_carries_the_dateline() -> None:
    text = "date 2024-01-09 world\n\nBy: Ana Lima\n\nOSLO – Text starts here.\n"
    fields = parse_plaintext(text, origin="x")
    assert fields["lead"] is None and fields["dateline"] == "OSLO"
    assert fields["authors"] == ["Ana Lima"]
    assert fields["body"] == "OSLO – Text starts here."


def test_title_line_and_crlf_line_endings() -> None:
    text = "date 2024-01-09 world\r\nTitle: A headline\r\n\r\nFrom: Ana Lima\r\n\r\nLead text here.\r\n"
    fields = parse_plaintext(text, origin="x")
    assert fields["title"] == "A headline"
    assert fields["authors"] == ["Ana Lima"]
    assert fields["body"] == "Lead text here."


def test_author_code_in_a_paragraph_of_its_own() -> None:
    fields = parse_plaintext("date 2024-01-09 world\n\nSome text.\n\nMore text.\n\n(ab)\n", origin="x")
    assert fields["author_code"] == "ab"
    assert fields["body"] == "Some text.\n\nMore text."


def test_parenthesised_agency_names_are_not_author_codes() -> None:
    fields = parse_plaintext("date 2024-01-09 world\n\nText by the agency. (AFP)\n", origin="x")
    assert fields["author_code"] is None
    assert fields["body"].endswith("(AFP)")


@pytest.mark.parametrize(("text", "code", "origin"), [
    ("\n\n  Just some text without a header.\n", "missing_date", "f.txt:3"),
    ("", "missing_date", "f.txt:1"),
    ("date 2023-02-30 politics\n\nText.\n", "bad_date", "f.txt:1"),
    ("\ndate 03.07.2023 politics\n\nText.\n", "bad_date", "f.txt:2"),
    ("date 2023-07-03 politics\n\nFrom: A B\n", "empty_body", "f.txt:3"),
])
def test_bad_headers_are_rejected_with_file_and_line(text: str, code: str, origin: str) -> None:
    with pytest.raises(InvalidArticle) as info:
        parse_plaintext(text, origin="f.txt")
    assert info.value.code == code
    assert info.value.origin == origin
