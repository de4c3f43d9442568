"""The public API: load_nlp, extract_articles, plain records, the contract shape, paragraph sentences."""

from __future__ import annotations

import dataclasses
import re

import pytest

import pipeline.extract as extract
from pipeline.article import Article
from pipeline.extract import EXTRACTOR_VERSION, extract_articles, extract_doc, load_nlp
from pipeline.extract.nlp import PARAGRAPH_PIPE


@pytest.fixture(scope="session")
def nlp():
    return load_nlp()


def test_public_names() -> None:
    assert set(extract.__all__) == {"EXTRACTOR_VERSION", "load_nlp", "extract_doc", "extract_articles"}
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", EXTRACTOR_VERSION)


def test_model_is_loaded_once_and_prepared(nlp) -> None:
    assert load_nlp() is nlp
    assert load_nlp("en_core_web_sm") is nlp
    assert nlp.pipe_names.index(PARAGRAPH_PIPE) < nlp.pipe_names.index("parser")
    assert "ner" in nlp.pipe_names


def test_other_model_names_go_to_spacy_load_without_downloading() -> None:
    with pytest.raises(OSError):
        load_nlp("no_such_model_installed_xyz")


def test_paragraph_breaks_start_sentences(nlp) -> None:
    doc = nlp("Budget talks stall in Oslo\n\nAnna Virtanen met Tomas Berg on Monday.\nThe talks failed.")
    assert [s.text.strip() for s in doc.sents] == [
        "Budget talks stall in Oslo", "Anna Virtanen met Tomas Berg on Monday.", "The talks failed."]


def test_windows_line_ends_break_paragraphs_too(nlp) -> None:
    doc = nlp("the talks in oslo went on and on\r\n\r\nthe deal with berg failed on monday")
    assert [s.text.strip() for s in doc.sents] == ["the talks in oslo went on and on",
                                                    "the deal with berg failed on monday"]


def test_hard_wrapped_lines_are_left_to_the_parser(nlp) -> None:
    doc = nlp("Anna Virtanen met the leaders of the\nopposition in Oslo on Monday.")
    assert len(list(doc.sents)) == 1


def _plain(value) -> None:
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _plain(getattr(value, f.name))
    elif isinstance(value, list):
        for v in value:
            _plain(v)
    else:
        assert value is None or type(value) in (str, int, bool, float), f"{type(value)} in a record"


def test_extract_articles_keeps_order_and_returns_plain_records(nlp) -> None:
    bodies = ["Anna Virtanen met Tomas Berg in Oslo.", "Hamas attacked the convoy on Friday.",
              "The Northwind Company opened a plant in Ohio.", "Maria Lopez criticized the plan.",
              "Microsoft called off the deal with OpenAI."]
    articles = [Article(id=f"a{i}", body=b, published="2024-03-11") for i, b in enumerate(bodies)]
    out = list(extract_articles(nlp, iter(articles), batch_size=2))
    assert [a.id for a, _ in out] == [a.id for a in articles]
    for (article, ex), body in zip(out, bodies, strict=True):
        assert ex.events, body
        assert ex == extract_doc(nlp(body), article)
        _plain(ex)


def test_extract_articles_passes_options(nlp) -> None:
    articles = [Article(id="x", body="The farmer sold his cows to Anna Virtanen.")]
    ((_, ex),) = extract_articles(nlp, articles, labels=frozenset({"GPE"}))
    assert ex.entities == [] and ex.events == []
    ((_, ex),) = extract_articles(nlp, articles, keep_all_events=True, labels=frozenset({"GPE"}))
    assert [e.trigger.lemma for e in ex.events] == ["sell"]


def test_contract_shape(nlp) -> None:
    text = "Officials claimed that Hamas had attacked the convoy in Gaza on Friday."
    ex = extract_doc(nlp(text), Article(id="c", body=text, published="2024-03-11"))
    out = ex.to_contract({"id": "c"})
    assert set(out) == {"article", "entities", "events"}
    ev = next(e for e in out["events"] if e["trigger"]["lemma"] == "attack")
    assert ev["source"]["text"] == "Officials" and ev["modality"] == "reported"
    assert ev["date"] == "2024-03-08" and ev["location"]["entity"] == "Gaza"
    assert {m["field"] for e in out["entities"] for m in e["mentions"]} == {"body"}


def test_a_doc_without_parse_gives_entities_and_no_crash(nlp) -> None:
    text = "Anna Virtanen met Tomas Berg in Oslo."
    with nlp.select_pipes(enable=["tok2vec", "ner"]):
        doc = nlp(text)
    ex = extract_doc(doc, Article(id="u", body=text))
    assert {e.name for e in ex.entities} >= {"Anna Virtanen", "Oslo"}
    assert all(m.sentence == text for e in ex.entities for m in e.mentions)
