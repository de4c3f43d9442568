"""The editable PLOVER lexicon (plover.json): typing without code changes (no model needed)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from pipeline.extract.lexicon import OTHER, PLOVER_TYPES, Lexicon, default_lexicon


def test_packaged_file_is_documented_and_uses_only_plover_types() -> None:
    data = json.loads(resources.files("pipeline.extract").joinpath("plover.json").read_text(encoding="utf-8"))
    assert data["_about"], "the file documents its own format"
    for section in ("verbs", "phrases", "nouns"):
        assert set(data[section]) <= PLOVER_TYPES
        assert all(isinstance(w, str) and w == w.lower() for words in data[section].values() for w in words)


def test_verbs_phrases_and_nouns_are_typed() -> None:
    lex = default_lexicon()
    assert lex.verb_type("invite") == ("REQUEST", None)
    assert lex.verb_type("negotiate") == ("CONSULT", None)
    assert lex.verb_type("take", "control") == ("COERCE", "take control")  # the phrase beats the verb
    assert lex.verb_type("take", "bus") == (OTHER, None)
    assert lex.verb_type("call", "off") == ("REJECT", "call off")
    assert lex.verb_type("whistle") == (OTHER, None)
    assert lex.noun_type("uprising") == "PROTEST"
    assert lex.noun_type("table") is None


def test_dropped_final_e_is_repaired_only_for_known_lemmas() -> None:
    lex = default_lexicon()
    assert lex.repair_lemma("fin", "fined") == "fine"
    assert lex.repair_lemma("hop", "hopes") == "hope"  # on the ignore list: known too
    assert lex.repair_lemma("hop", "hoping") == "hope"
    assert lex.repair_lemma("hop", "hopped") == "hop"
    assert lex.repair_lemma("invite", "invited") == "invite"
    assert lex.repair_lemma("walk", "walked") == "walk"


def test_a_custom_file_changes_typing(tmp_path) -> None:
    path = tmp_path / "plover.json"
    path.write_text(json.dumps({"verbs": {"AID": ["whistle"]}, "phrases": {"THREATEN": ["wave flag"]},
                                "reporting": ["mutter"]}), encoding="utf-8")
    lex = Lexicon.from_file(path)
    assert lex.verb_type("whistle") == ("AID", None)
    assert lex.verb_type("wave", "flag") == ("THREATEN", "wave flag")
    assert lex.verb_type("invite") == (OTHER, None)
    assert "mutter" in lex.reporting


def test_unknown_type_is_an_error(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"verbs": {"HUG": ["embrace"]}}), encoding="utf-8")
    with pytest.raises(ValueError, match="HUG"):
        Lexicon.from_file(path)
