"""The editable event lexicon (lexicon.json): a taxonomy for all of the news, typing without code
changes, and files refused at load time with their line (no model needed)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from pipeline.extract.lexicon import OTHER, PLOVER_TYPES, STATEMENT, Lexicon, LexiconError, default_lexicon

FAMILIES = {"political", "business", "justice", "personnel", "life", "transfer", "movement", "contact", "sport",
            "culture", "creation", "statement", "other"}


def packaged() -> dict:
    return json.loads(resources.files("pipeline.extract").joinpath("lexicon.json").read_text(encoding="utf-8"))


def test_every_type_has_a_family_a_definition_and_an_example() -> None:
    data = packaged()
    assert data["_about"], "the file documents its own format"
    for name, info in data["types"].items():
        assert info["family"] in FAMILIES, name
        assert info["definition"] and info["example"], f"{name} is documented"
        assert info["plover"] is None or info["plover"] in PLOVER_TYPES, name
    political = {n for n, i in data["types"].items() if i["family"] == "political"}
    assert political == PLOVER_TYPES, "PLOVER's sixteen types are the political family"
    for family in ("business", "justice", "personnel", "life", "sport"):
        assert any(i["family"] == family for i in data["types"].values()), family
    for section in ("verbs", "phrases", "nouns"):
        assert set(data[section]) <= set(data["types"])
        assert all(isinstance(w, str) and w == w.lower() for words in data[section].values() for w in words)


def test_general_news_is_typed() -> None:
    lex = default_lexicon()
    assert lex.verb_type("cut", "job") == ("JOB_CUTS", "cut job")
    assert lex.verb_type("acquire") == ("MERGER", None)
    assert lex.verb_type("post", "profit") == ("RESULTS", "post profit")
    assert lex.verb_type("arrest") == ("ARREST", None) and lex.plover("ARREST") == "COERCE"
    assert lex.verb_type("resign") == ("RESIGN", None)
    assert lex.verb_type("die") == ("DIE", None)
    assert lex.verb_type("beat") == ("WIN", None) and lex.family("WIN") == "sport"
    assert lex.verb_type("win", "award") == ("AWARD", "win award")
    assert lex.verb_type("win", "election") == ("ELECT", "win election")
    assert lex.family(STATEMENT) == "statement" and lex.family(OTHER) == "other"


def test_political_verbs_phrases_and_nouns_keep_their_plover_types() -> None:
    lex = default_lexicon()
    assert lex.verb_type("invite") == ("REQUEST", None)
    assert lex.verb_type("negotiate") == ("CONSULT", None)
    assert lex.verb_type("take", "control") == ("COERCE", "take control")  # the phrase beats the verb
    assert lex.verb_type("take", "bus") == (OTHER, None)
    assert lex.verb_type("call", "off") == ("REJECT", "call off")
    assert lex.verb_type("whistle") == (OTHER, None)
    assert lex.noun_type("uprising") == "PROTEST"
    assert lex.noun_type("cuts", "job") == "JOB_CUTS"
    assert lex.noun_type("table") is None
    assert lex.family("ASSAULT") == "political" and lex.plover("ASSAULT") == "ASSAULT"


def test_reporting_verbs_are_not_types() -> None:
    lex = default_lexicon()
    for verb in ("say", "tell", "add", "claim", "report", "announce", "explain", "argue"):
        assert verb in lex.reporting and verb not in lex.verbs, verb
    assert lex.reports("deny") and lex.verb_type("deny") == ("REJECT", None)  # typed, and reports too
    assert "warn" in lex.reporting and lex.verb_type("issue", "warning") == ("THREATEN", "issue warning")


def test_agent_sectors() -> None:
    lex = default_lexicon()
    assert [lex.sectors[n] for n in ("police", "troops", "court", "company", "rebels", "protesters")] == [
        "police", "military", "judiciary", "business", "rebels", "protesters"]


def test_dropped_final_e_is_repaired_only_for_known_lemmas() -> None:
    lex = default_lexicon()
    assert lex.repair_lemma("fin", "fined") == "fine"
    assert lex.repair_lemma("hop", "hopes") == "hope"  # on the ignore list: known too
    assert lex.repair_lemma("hop", "hoping") == "hope"
    assert lex.repair_lemma("hop", "hopped") == "hop"
    assert lex.repair_lemma("invite", "invited") == "invite"
    assert lex.repair_lemma("walk", "walked") == "walk"


def test_a_custom_file_changes_typing(tmp_path) -> None:
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({
        "types": {"HUG": {"family": "life", "definition": "People hug.", "example": "They hugged."}},
        "verbs": {"HUG": ["embrace"]}, "phrases": {"HUG": ["wave flag"]}, "reporting": ["mutter"]}), encoding="utf-8")
    lex = Lexicon.from_file(path)
    assert lex.verb_type("embrace") == ("HUG", None) and lex.family("HUG") == "life"
    assert lex.verb_type("wave", "flag") == ("HUG", "wave flag")
    assert lex.verb_type("invite") == (OTHER, None)
    assert "mutter" in lex.reporting


def refused(path, text: str, match: str) -> None:
    """The lexicon file ``text``, written to ``path``, is refused with a message matching ``match``."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=match):
        Lexicon.from_file(path)


def test_a_file_of_plover_word_lists_still_loads(tmp_path) -> None:
    path = tmp_path / "plover.json"
    path.write_text(json.dumps({"verbs": {"AID": ["whistle"]}}), encoding="utf-8")
    lex = Lexicon.from_file(path)
    assert lex.verb_type("whistle") == ("AID", None) and lex.family("AID") == "political"


def test_unknown_type_is_refused_with_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.json"
    refused(path, '{\n  "types": {"ARREST": {"family": "justice"}},\n  "verbs": {\n'
                  '    "ARREST": ["arrest"],\n    "HUG": ["embrace"]\n  }\n}\n',
            rf"^{path}:5: verbs: unknown type 'HUG'")


def test_a_trigger_under_two_types_is_refused_with_file_and_line(tmp_path) -> None:
    path = tmp_path / "twice.json"
    refused(path, '{\n  "types": {"ARREST": {"family": "justice"}, "FINE": {"family": "justice"}},\n'
                  '  "nouns": {"FINE": ["fine"]},\n  "verbs": {\n    "ARREST": ["arrest", "fine"],\n'
                  '    "FINE": ["fine", "penalise"]\n  }\n}\n',
            rf"^{path}:6: verbs: 'fine' is listed under both ARREST and FINE")


def test_a_constraint_on_an_unknown_type_or_kind_is_refused(tmp_path) -> None:
    path = tmp_path / "constraints.json"
    refused(path, '{\n  "types": {"ARREST": {"family": "justice"}},\n  "constraints": {\n'
                  '    "ARREST": {"target": "robot"}\n  }\n}\n',
            rf"^{path}:4: constraints: ARREST: 'target' must be one of")
    refused(path, '{\n  "constraints": {\n    "HUG:embrace": {"actor": "party"}\n  }\n}\n',
            rf"^{path}:3: constraints: unknown type")


def test_a_type_without_family_and_broken_json_are_refused(tmp_path) -> None:
    path = tmp_path / "nofamily.json"
    refused(path, '{\n  "types": {\n    "HUG": {"definition": "x"}\n  }\n}\n',
            rf"^{path}:3: type 'HUG' needs a 'family'")
    refused(path, '{\n  "verbs": {\n    "AID": ["help",]\n  }\n}\n',
            rf"^{path}:3: not JSON")


def test_a_constraint_need_and_a_wordnet_sense_file_are_checked_at_load_time(tmp_path) -> None:
    path = tmp_path / "needs.json"
    refused(path, '{\n  "types": {"ARREST": {"family": "justice"}},\n  "constraints": {\n'
                  '    "ARREST": {"need": ["subject"]}\n  }\n}\n',
            rf"^{path}:4: constraints: ARREST: 'need' must be one of a list of")
    refused(path, '{\n  "no_happening_senses": [\n    "verb.stative",\n    "verb.feelings"\n  ]\n}\n',
            rf"^{path}:4: no_happening_senses: 'verb.feelings' is not a WordNet")
    refused(path, '{\n  "domains": {\n    "sport": {"cues": ["goal"], "min_share": 2}\n  }\n}\n',
            rf"^{path}:3: domains: 'sport' needs 'cues' \(nouns\) and a 'min_share'")
    refused(path, '{\n  "domains": {\n    "film": {"cues": ["film"], "min_share": 0.1,\n'
                  '             "retype": {"ASSAULT": "OSCAR"}}\n  }\n}\n',
            rf"^{path}:3: domains: 'film': retype: unknown type 'OSCAR'")


def test_wordnet_gives_the_commonest_sense_of_a_verb_from_the_installed_package() -> None:
    from pipeline.extract import senses

    assert senses.load() > 10_000  # WordNet 3.0 has 11,529 verb lemmas
    assert senses.first_sense("listen") == "verb.perception" and senses.first_sense("dominate") == "verb.stative"
    assert senses.no_happening("make up") and not senses.no_happening("attack")
    assert senses.first_sense("dominate utterly") is None and senses.no_happening("dominate utterly")  # as its verb
    assert senses.first_sense("zzfrobnicate") is None
    assert [senses.agent_noun(w) for w in ("tycoons", "activist", "committee", "firework", "pressures")] == [
        "person", "person", "group", None, None]
