"""Entity rules: span cleanup, titles split off names, dateline city, canonical names, labels."""

from __future__ import annotations

import pytest
from spacy.tokens import Doc

from pipeline.article import Article
from pipeline.extract import extract_doc, load_nlp
from pipeline.extract.entities import canonicalize, find_dateline, find_mentions, mentions_of, propagate


@pytest.fixture(scope="session")
def nlp():
    return load_nlp()


def run(nlp, text: str, **kw):
    article = Article(id="t", body=text, published="2024-03-11", dateline=kw.pop("dateline", None))
    return extract_doc(nlp(text), article, **kw)


def by_name(ex):
    return {e.name: e for e in ex.entities}


def tagged(nlp, tokens: list[tuple[str, str]]) -> Doc:
    """A Doc with entity tags set by hand (IOB), to reproduce the model's mistakes exactly.

    Each token is (text, tag); a text ending in a space keeps the space after it."""
    words = [t.rstrip(" ") if t.strip() else t for t, _ in tokens]
    spaces = [t.endswith(" ") and bool(t.strip()) for t, _ in tokens]
    return Doc(nlp.vocab, words=words, spaces=spaces, ents=[tag for _, tag in tokens])


def mention_texts(doc: Doc, **kw) -> list[tuple[str, str]]:
    return [(doc.text[m.start:m.end], m.label) for m in find_mentions(doc, **kw)]


# ---------------------------------------------------------------- cleanup (hand-tagged Docs)

def test_leading_article_and_trailing_possessive_are_cut(nlp) -> None:
    doc = tagged(nlp, [("The ", "B-ORG"), ("Northwind ", "I-ORG"), ("Company", "I-ORG"), ("’s ", "I-ORG"),
                       ("plant ", "O"), ("closed", "O"), (".", "O")])
    assert mention_texts(doc) == [("Northwind Company", "ORG")]


def test_inner_possessive_ends_a_name_but_not_a_company_name(nlp) -> None:
    doc = tagged(nlp, [("Norway", "B-EVENT"), ("’ ", "I-EVENT"), ("Constitution ", "I-EVENT"), ("Day ", "I-EVENT"),
                       ("and ", "O"), ("McDonald", "B-ORG"), ("'s ", "I-ORG"), ("Corp", "I-ORG")])
    assert mention_texts(doc) == [("Constitution Day", "EVENT"), ("McDonald's Corp", "ORG")]


def test_unbalanced_bracket_ends_a_name(nlp) -> None:
    doc = tagged(nlp, [("Talks ", "O"), ("in ", "O"), ("Oslo ", "B-GPE"), ("(", "I-GPE"), ("Norway ", "I-GPE"),
                       ("followed", "O"), (".", "O")])
    assert mention_texts(doc) == [("Oslo", "GPE")]


def test_newline_splits_two_names(nlp) -> None:
    doc = tagged(nlp, [("Oslo", "B-GPE"), ("\n\n", "I-GPE"), ("Bergen ", "I-GPE"), ("too", "O")])
    assert mention_texts(doc) == [("Oslo", "GPE"), ("Bergen", "GPE")]


def test_titles_are_split_off_person_names_into_roles(nlp) -> None:
    doc = tagged(nlp, [("Finnish ", "B-NORP"), ("President ", "B-PERSON"), ("Anna ", "I-PERSON"),
                       ("Virtanen ", "I-PERSON"), ("spoke", "O"), (".", "O")])
    mentions = find_mentions(doc)
    person = next(m for m in mentions if m.label == "PERSON")
    assert doc.text[person.start:person.end] == "Anna Virtanen"
    assert person.role == "Finnish President"


def test_honorific_is_not_a_role(nlp) -> None:
    doc = tagged(nlp, [("Mr. ", "B-PERSON"), ("Tomas ", "I-PERSON"), ("Berg ", "I-PERSON"), ("left", "O")])
    (m,) = find_mentions(doc)
    assert (doc.text[m.start:m.end], m.role) == ("Tomas Berg", None)


def test_title_before_a_mislabelled_name_makes_it_a_person(nlp) -> None:
    doc = tagged(nlp, [("Chancellor ", "O"), ("Olaf ", "B-ORG"), ("Scholz ", "I-ORG"), ("spoke", "O")])
    assert mention_texts(doc) == [("Olaf Scholz", "PERSON")]


def test_trailing_numbers_and_lower_case_words_are_cut(nlp) -> None:
    doc = tagged(nlp, [("Durham ", "B-ORG"), ("114 ", "I-ORG"), ("and ", "O"), ("Interfax ", "B-ORG"),
                       ("news ", "I-ORG"), ("agency", "I-ORG")])
    assert mention_texts(doc) == [("Durham", "ORG"), ("Interfax", "ORG")]


def test_lower_case_spans_are_not_names(nlp) -> None:
    doc = tagged(nlp, [("the ", "O"), ("mercenaries ", "B-ORG"), ("left", "O")])
    assert mention_texts(doc) == []


def test_labels_filter(nlp) -> None:
    doc = tagged(nlp, [("Anna ", "B-PERSON"), ("Virtanen ", "I-PERSON"), ("visited ", "O"), ("Oslo", "B-GPE")])
    assert mention_texts(doc, labels={"PERSON"}) == [("Anna Virtanen", "PERSON")]


# ---------------------------------------------------------------- canonical names

def test_majority_label_wins_for_one_name(nlp) -> None:
    doc = tagged(nlp, [("Kessler ", "B-ORG"), ("met ", "O"), ("Kessler ", "B-PERSON"), ("and ", "O"),
                       ("Kessler", "B-PERSON")])
    ents = canonicalize(doc, find_mentions(doc))
    assert [(e.name, e.label, len(e.mentions)) for e in ents] == [("Kessler", "PERSON", 3)]


def test_names_in_capitals_weigh_less_in_the_label_vote(nlp) -> None:
    doc = tagged(nlp, [("BERGEN ", "B-ORG"), ("WINS ", "O"), ("BERGEN ", "B-ORG"), ("LOSES", "O"), ("\n", "O"),
                       ("Bergen ", "B-GPE"), ("voted", "O")])
    ents = canonicalize(doc, find_mentions(doc))
    assert [(e.name, e.label, len(e.mentions)) for e in ents] == [("Bergen", "GPE", 3)]


def test_short_forms_resolve_to_the_fullest_name(nlp) -> None:
    doc = tagged(nlp, [("Anna ", "B-PERSON"), ("Virtanen ", "I-PERSON"), ("and ", "O"), ("Virtanen ", "B-PERSON"),
                       ("and ", "O"), ("Northwind ", "B-ORG"), ("and ", "O"), ("Northwind ", "B-ORG"),
                       ("Company ", "I-ORG"), ("and ", "O"), ("Ohio ", "B-GPE"), ("State ", "B-ORG"),
                       ("University", "I-ORG")])
    ents = canonicalize(doc, find_mentions(doc))
    names = {e.name: sorted(doc.text[m.start:m.end] for m in e.mentions) for e in ents}
    assert names == {"Anna Virtanen": ["Anna Virtanen", "Virtanen"],
                     "Northwind Company": ["Northwind", "Northwind Company"],
                     "Ohio": ["Ohio"], "State University": ["State University"]}


def test_a_country_never_shortens_an_organisation(nlp) -> None:
    doc = tagged(nlp, [("U.S. ", "B-GPE"), ("and ", "O"), ("U.S. ", "B-ORG"), ("Treasury ", "I-ORG")])
    ents = canonicalize(doc, find_mentions(doc))
    assert sorted((e.name, e.label) for e in ents) == [("U.S.", "GPE"), ("U.S. Treasury", "ORG")]


def test_known_names_are_found_where_the_model_missed_them(nlp) -> None:
    doc = tagged(nlp, [("Anna ", "B-PERSON"), ("Virtanen ", "I-PERSON"), ("won", "O"), (".", "O"),
                       ("\n", "O"), ("Virtanen ", "O"), ("smiled", "O"), (".", "O")])
    mentions = find_mentions(doc)
    ents = canonicalize(doc, mentions)
    assert [m.entity for m in mentions] == [-1], "canonicalize leaves its input as it was"
    propagate(doc, ents)
    assert [(doc.text[m.start:m.end], ents[m.entity].name) for m in mentions_of(ents)] == [
        ("Anna Virtanen", "Anna Virtanen"), ("Virtanen", "Anna Virtanen")]


# ---------------------------------------------------------------- with the model

def test_real_article_canonical_names_and_offsets(nlp) -> None:
    text = ("German Chancellor Olaf Scholz met French President Emmanuel Macron in Paris on Friday. "
            "Scholz praised Macron.\n\nThe Northwind Company's new plant opened in Ohio. Northwind said "
            "the plant would hire 300 people.")
    ex = run(nlp, text)
    ents = by_name(ex)
    assert ents["Olaf Scholz"].label == "PERSON"
    assert [m.text for m in ents["Olaf Scholz"].mentions] == ["Olaf Scholz", "Scholz"]
    assert ents["Olaf Scholz"].roles == ["German Chancellor"]
    assert [m.text for m in ents["Emmanuel Macron"].mentions] == ["Emmanuel Macron", "Macron"]
    assert ents["Emmanuel Macron"].roles == ["French President"]
    assert [m.text for m in ents["Northwind Company"].mentions] == ["Northwind Company", "Northwind"]
    assert ents["Paris"].label == "GPE"
    for e in ex.entities:
        for m in e.mentions:
            assert text[m.start:m.end] == m.text
            assert "\n" not in m.text and not m.text.lower().startswith("the ")
            assert not m.text.endswith(("'s", "’s")) and m.field == "body"
            assert m.sentence and m.text in m.sentence


def test_dateline_city_is_a_place_entity(nlp) -> None:
    text = "Talks resume.\n\nOSLO – Norway's government said on Monday it would raise taxes."
    ex = run(nlp, text)
    oslo = by_name(ex)["Oslo"]
    assert oslo.label == "GPE"
    assert [(m.text, m.start, m.end) for m in oslo.mentions] == [("OSLO", 15, 19)]


def test_dateline_from_the_article_field() -> None:
    text = "NEW DELHI — Officials met."
    assert find_dateline(text) == (0, 9)
    assert find_dateline(text, "NEW DELHI") == (0, 9)
    assert find_dateline("LYON, France (AFP) - Police said") == (0, 4)  # hyphen after an agency
    assert find_dateline("CRICKET - SURREY WIN") is None  # a plain hyphen is a headline, not a dateline
    assert find_dateline("The MINSK – talks") is None  # only at the start of a line


def test_numbers_and_dates_are_not_entities(nlp) -> None:
    ex = run(nlp, "Anna Virtanen paid 300 euros on Friday, March 8.")
    assert {e.label for e in ex.entities} <= {"PERSON"}


def test_acronym_defined_in_brackets_is_an_alias(nlp) -> None:
    text = ("The National Human Rights Commission (NHRC) asked the police for a report. "
            "Officials said the NHRC would publish it soon.")
    ex = run(nlp, text)
    ents = by_name(ex)
    nhrc = ents["National Human Rights Commission"]
    assert nhrc.label == "ORG"
    assert [m.text for m in nhrc.mentions] == ["National Human Rights Commission", "NHRC", "NHRC"]
    assert "NHRC" not in ents


def test_untagged_acronym_in_running_text_is_an_org_but_not_in_headlines(nlp) -> None:
    text = "Fighters of the KDP and the PUK clashed near the border on Monday.\nKDP WINS VOTE IN NORTH"
    ex = run(nlp, text)
    kdp = by_name(ex).get("KDP")
    assert kdp is not None and kdp.label == "ORG"
    assert [m.start for m in kdp.mentions] == [text.index("KDP")]  # not the headline's
    assert all(m.text != "GMT" for e in run(nlp, "The talks began at 10 GMT in Oslo.").entities
               for m in e.mentions)
