"""relabel: the model's PERSON/ORG/GPE confusions corrected with evidence, on texts written for it (issue 13.4)."""

from __future__ import annotations

import copy
import re

import pytest

from pipeline.extract.entities import EntityState, RawMention, name_key
from pipeline.extract.labels import relabel
from pipeline.geo import Gazetteer, default_gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def ents(text: str, *named: tuple[str, str]) -> list[EntityState]:
    """One entity per (name, model label), a mention at each whole-word occurrence of the name."""
    out: list[EntityState] = []
    taken: set[int] = set()
    for i, (name, label) in enumerate(named):
        spans = [m.span() for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text)
                 if m.start() not in taken]
        taken.update(k for s, e in spans for k in range(s, e))
        assert spans, name
        out.append(EntityState(name=name, label=label, key=name_key(name),
                               mentions=[RawMention(0, 0, s, e, label, entity=i) for s, e in spans]))
    return out


def labels(found: list[EntityState]) -> dict[str, str]:
    return {e.name: e.label for e in found}


DRINKS = ("French drinks group Pernod Ricard has agreed a takeover of Allied Domecq. Shares in Diageo, the "
          "world's biggest drinks firm, rose. Pernod Ricard said in a statement that the deal would give it "
          "Stolichnaya vodka. Diageo's chief executive Paul Walsh said nothing. Allied Domecq, which owns the "
          "Baskin-Robbins ice cream chain, will sell Baskin-Robbins shares to Dunkin.")


def test_companies_from_corporate_cues(gaz: Gazetteer) -> None:
    found = relabel(ents(DRINKS, ("Pernod Ricard", "PERSON"), ("Diageo", "PERSON"), ("Stolichnaya", "PERSON"),
                         ("Baskin-Robbins", "GPE"), ("Paul Walsh", "PERSON")), DRINKS, gazetteer=gaz)
    assert labels(found) == {"Pernod Ricard": "ORG", "Diageo": "ORG", "Stolichnaya": "ORG",
                             "Baskin-Robbins": "ORG", "Paul Walsh": "PERSON"}
    assert all(m.label == e.label for e in found for m in e.mentions)


def test_legal_suffix(gaz: Gazetteer) -> None:
    text = "Glenmorangie Plc was sold. Analysts at Lloyd Holdings agreed."
    found = relabel(ents(text, ("Glenmorangie Plc", "PERSON"), ("Lloyd Holdings", "PERSON")), text, gazetteer=gaz)
    assert labels(found) == {"Glenmorangie Plc": "ORG", "Lloyd Holdings": "ORG"}


DEMO = ("The ferry left Copenhagen on Monday. Ingrid Solberg-Hauge, who runs the harbour office in Bergen, "
        "said the crossing from Copenhagen to Bergen took a day. Solberg-Hauge was pleased.")


def test_places_from_the_gazetteer_and_a_person_from_her_first_name(gaz: Gazetteer) -> None:
    found = relabel(ents(DEMO, ("Copenhagen", "ORG"), ("Bergen", "ORG"), ("Ingrid Solberg-Hauge", "ORG")), DEMO,
                    gazetteer=gaz)
    assert labels(found) == {"Copenhagen": "GPE", "Bergen": "GPE", "Ingrid Solberg-Hauge": "PERSON"}


def test_no_evidence_keeps_the_model_label(gaz: Gazetteer) -> None:
    text = "Chelsea beat Arsenal at Stamford Bridge. Yukos met Tony Blair."
    found = relabel(ents(text, ("Chelsea", "ORG"), ("Arsenal", "ORG"), ("Yukos", "PERSON"), ("Tony Blair", "PERSON")),
                    text, gazetteer=gaz)
    assert labels(found) == {"Chelsea": "ORG", "Arsenal": "ORG", "Yukos": "PERSON", "Tony Blair": "PERSON"}


def test_yukos_and_the_honorific(gaz: Gazetteer) -> None:
    text = ("Russian oil giant Yukos has filed for bankruptcy. Yukos shares fell. Mr Ebbers denied it, and "
            "Ebbers said he would appeal.")
    found = relabel(ents(text, ("Yukos", "PERSON"), ("Mr Ebbers", "ORG"), ("Ebbers", "PERSON")), text, gazetteer=gaz)
    assert labels(found) == {"Yukos": "ORG", "Ebbers": "PERSON"}
    ebbers = found[1]
    assert [text[m.start:m.end] for m in ebbers.mentions] == ["Mr Ebbers", "Ebbers"]
    assert {m.entity for m in ebbers.mentions} == {1} and ebbers.key == "ebbers"


def test_the_input_is_left_as_it_was(gaz: Gazetteer) -> None:
    given = ents(DRINKS, ("Pernod Ricard", "PERSON"), ("Diageo", "PERSON"))
    before = copy.deepcopy(given)
    out = relabel(given, DRINKS, gazetteer=gaz)
    assert given == before
    assert out is not given and all(a is not b for a, b in zip(out, given, strict=True))


def test_first_names_can_be_given(gaz: Gazetteer) -> None:
    text = "Zorblat Quux spoke."
    one = ents(text, ("Zorblat Quux", "ORG"))
    assert relabel(one, text, gazetteer=gaz)[0].label == "ORG"
    assert relabel(one, text, gazetteer=gaz, names=lambda w: "female" if w.lower() == "zorblat" else "unknown"
                   )[0].label == "PERSON"
