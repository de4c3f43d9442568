"""The fast attribute ruler and lemmatizer annotate every token exactly as spaCy's own pipes do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG
from spacy.tokens import Doc

from pipeline.extract import fastpipes, load_nlp
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent
ATTRS = [TAG, POS, MORPH, LEMMA, DEP, HEAD]
# every kind of exception in the model's ruler: contractions, two-token patterns (gon|na, let|'s,
# c'm|on, y'|all, ai|n't), regex forms, pronouns by case, auxiliaries, "there is", stray spaces
TRICKY = [
    "I'd have gone, y'all gonna see. Somethin' ain't right; c'mon, let's go. We gotta get ol' nothin'.",
    "She told him it's hers, not theirs, and they'd been there before; he'll do what he did.",
    "There is a deal.  There were talks   in Oslo,\n\nand that was that: this one, those two.",
    "Nobody knew whether anyone could stop it, but everything changed once the minister resigned.",
    "The company gets what it got, doin' fine and goin' strong, 'em all; 'nuff said.",
]


def annotations(doc: Doc) -> list[tuple[str, str, str, str, str, int]]:
    return [(t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in doc]


@pytest.fixture(scope="module")
def pipelines() -> tuple[spacy.Language, spacy.Language]:
    return load_nlp(fast=False), load_nlp()


def test_the_default_pipeline_uses_the_fast_pipes(pipelines) -> None:
    spacy_own, fast = pipelines
    assert fastpipes.ATTRIBUTES_PIPE in fast.pipe_names and fastpipes.LEMMATIZER_PIPE in fast.pipe_names
    assert "attribute_ruler" not in fast.pipe_names and "lemmatizer" not in fast.pipe_names
    assert "attribute_ruler" in spacy_own.pipe_names and "lemmatizer" in spacy_own.pipe_names


def _compare(pipelines, texts: list[str]) -> int:
    spacy_own, fast = pipelines
    tokens = 0
    for text, a, b in zip(texts, spacy_own.pipe(texts), fast.pipe(texts), strict=True):
        assert annotations(b) == annotations(a), text[:80]
        assert (b.to_array(ATTRS) == a.to_array(ATTRS)).all()
        tokens += len(a)
    return tokens


def test_same_annotations_on_tricky_sentences(pipelines) -> None:
    assert _compare(pipelines, TRICKY) > 100
    doc = pipelines[1](TRICKY[0])
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["'d"] == "would" and lemmas["gon"] == "go" and lemmas["Somethin'"] == "something"
    assert [t.pos_ for t in doc if t.text == "have"] == ["AUX"]


def test_same_annotations_on_the_sample_articles(pipelines) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.txt"))]
    assert len(texts) >= 5
    assert _compare(pipelines, texts) > 1500


def test_same_annotations_on_bbc_articles(pipelines) -> None:
    path = shared_path("bbc", "bbc.jsonl")
    with path.open(encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line, _ in zip(f, range(60), strict=False)]
    assert _compare(pipelines, texts) > 20_000


def test_caches_stay_bounded_and_results_unchanged(pipelines, monkeypatch) -> None:
    monkeypatch.setattr(fastpipes, "CACHE_LIMIT", 25)
    monkeypatch.setattr(fastpipes, "UNCACHED_LIMIT", 25)
    fast = pipelines[1]
    novel = " ".join(f"Minister Quorvath{i} visited Blenmark{i} and spoke." for i in range(30))
    assert _compare(pipelines, [*TRICKY, novel]) > 300
    assert len(fast.get_pipe(fastpipes.ATTRIBUTES_PIPE).plans) <= 25
    lemmatizer = fast.get_pipe(fastpipes.LEMMATIZER_PIPE)
    assert len(lemmatizer.lemmatizer.cache) <= 25
    assert 0 < len(lemmatizer.uncached) <= 25  # the names and base forms the model's cache leaves out


def test_a_ruler_the_compiler_does_not_understand_is_kept() -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "big", "OP": "+"}]], {"POS": "ADJ"})  # an operator: not compiled
    assert fastpipes.install(nlp) == []
    assert nlp.pipe_names == ["attribute_ruler"]
    assert nlp("big big news")[0].pos_ == "ADJ"
