"""benchmarks/eval_taxonomy.py: its pure helpers on tiny inline data (no model, no shared data)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def ev():
    spec = importlib.util.spec_from_file_location("eval_taxonomy", ROOT / "benchmarks" / "eval_taxonomy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def event(type_: str, lemma: str, family: str | None = None, **kw) -> dict:
    out = {"type": type_, "trigger": {"text": lemma, "lemma": lemma}, "sentence": kw.pop("sentence", ""), **kw}
    if family is not None:
        out["family"] = family
    return out


def test_cameo_mapping_covers_every_root_with_plover_types(ev):
    assert sorted(ev.CAMEO_PLOVER) == list(range(1, 21))
    assert ev.CAMEO_PLOVER[1][1] == ("STATEMENT",)
    assert ev.CAMEO_PLOVER[2][1] == ()  # appeal: dropped in PLOVER
    assert set(ev.CAMEO_PLOVER[8][1]) == {"CONCEDE", "RETREAT"}
    assert {ev.CAMEO_PLOVER[r][1] for r in (18, 19, 20)} == {("ASSAULT",)}
    assert ev.CAMEO_PLOVER[9][1] == ev.CAMEO_PLOVER[11][1] == ("ACCUSE",)
    assert {t for r in range(3, 21) for t in ev.CAMEO_PLOVER[r][1]} == PLOVER_16


PLOVER_16 = {"AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE", "REJECT",
             "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"}  # the PLOVER 2021 event types


@pytest.mark.parametrize(("cell", "root"), [("4-18 Assualt", 18), ("0-1 Make Public Statement", 1),
                                             (" 2-8 Yield ", 8), ("", None), (None, None), ("Yield", None),
                                             ("9-99 Nonsense", None)])
def test_cameo_root(ev, cell, root):
    assert ev.cameo_root(cell) == root


def test_majority_breaks_ties_on_the_smallest_root(ev):
    assert ev.majority([11, 1, 11]) == 11
    assert ev.majority([18, 4, 4, 18]) == 4
    assert ev.majority([]) is None


def row(no: int, **coders: tuple[str, str]) -> dict[str, str]:
    out = {"ids": f"x_{no}", "plain_text": f"No. {no} sentences text {no}", "sentences": f"text {no}"}
    for k, (done, code) in coders.items():
        out[f"anncomplete_{k[1:]}"] = done
        out[f"Action1_CAMEO_{k[1:]}"] = code
    return out


def test_coder_votes_take_each_coders_latest_annotated_round(ev):
    rows = [
        (10, row(1, c1=("FALSE", ""), c2=("TRUE", "3-11 Disapprove"))),  # c1 did not annotate in round 10
        (8, row(1, c1=("True", "4-18 Assualt"), c2=("True", "0-1 Make Public Statement"))),
        (8, row(2, c1=("True", "1-4 Consult"))),
        (9, row(2, c1=("True", ""))),  # c1 later judged it has no action
        (9, row(3, c1=("False", ""), c3=("False", "2-8 Yield"))),  # a code counts even without anncomplete
    ]
    votes = ev.coder_votes(rows)
    assert sorted(votes[1]) == [11, 18]
    assert votes[2] == []
    assert votes[3] == [8]
    assert {no: ev.majority(v) for no, v in votes.items()} == {1: 11, 2: None, 3: 8}


def test_sentence_no_prefers_the_no_column(ev):
    assert ev.sentence_no({"No": "No. 70 ", "plain_text": "No. 1 sentences x"}) == 70
    assert ev.sentence_no({"plain_text": "No. 16 sentences MINGORA"}) == 16
    with pytest.raises(ValueError):
        ev.sentence_no({"plain_text": "nothing"})


def test_md_cell_escapes_pipes_and_trims(ev):
    assert ev.md_cell("a | b\n c") == "a \\| b c"
    assert ev.md_cell("x" * 300, 250) == "x" * 249 + "…"
    assert ev.md_cell(None) == ""


def test_bbc_summary_counts_statements_apart(ev):
    events = [event("STATEMENT", "say", "statement"), event("OTHER", "say", "other"), event("OTHER", "win"),
              event("ASSAULT", "attack", "political"), event("THREATEN", "warn", "political")]
    d = ev.bbc_summary(events, frozenset({"say", "warn"}))
    assert (d["events"], d["statements"], d["non_statement"], d["other"]) == (5, 1, 4, 2)
    assert d["other_share"] == 0.5
    assert d["reporting_events"] == 2 and d["statements_on_reporting_verb"] == 1
    assert dict(d["reporting_by_type"]) == {"OTHER": 1, "THREATEN": 1}
    assert dict(d["by_family"]) == {"statement": 1, "other": 1, "None": 1, "political": 2}
    assert d["other_top_lemmas"] == [("say", 1), ("win", 1)]


def test_sample_rows_are_typed_and_reproducible(ev):
    events = [(f"a/{i}", event(t, "x", actor={"text": "A"}, sentence=f"s {i}"))
              for i, t in enumerate(["OTHER", "ASSAULT", "STATEMENT", "AID", "COERCE", "OTHER"])]
    rows = ev.sample_rows(events, 2, seed=13)
    assert rows == ev.sample_rows(events, 2, seed=13)
    assert [r["#"] for r in rows] == [1, 2]
    assert {r["type"] for r in rows} <= {"ASSAULT", "AID", "COERCE"}
    assert rows[0]["actor"] == "A" and rows[0]["target"] == "" and rows[0]["family"] is None
    assert len(ev.sample_rows(events, 100, seed=1)) == 3
    table = ev.markdown(rows).splitlines()
    assert table[0].startswith("| # | article | family | type |") and len(table) == 4


def test_cameo_scores(ev):
    items = [(18, {"ASSAULT", "OTHER"}, set()), (18, {"OTHER"}, {"OTHER"}), (8, {"RETREAT"}, {"RETREAT"}),
             (1, {"OTHER"}, set()), (2, {"REQUEST"}, {"REQUEST"})]
    d = ev.cameo_scores(items)
    assert d["plover"] == {"n": 3, "hit_all": 2, "hit_default": 1}
    assert d["statement"]["n"] == 1 and d["statement"]["hit_all"] == 0
    assert d["unmapped"] == 1
    assert (d["none_all"], d["none_default"]) == (0, 2)
    assert d["per_root"][18]["hit_all"] == 1
