"""Negation and modality of a clause: asserted, hypothetical or reported (with who reported it).

* hypothetical: a modal auxiliary (could, would, may, will ... see ``hypothetical_aux`` in lexicon.json),
  a condition ("if ..."), or an infinitive under an intent verb ("want to", "persuaded X not to");
  a clause coordinated with or complementing a hypothetical one is hypothetical too (not a
  time clause: in "could be defused after he negotiated", the negotiation happened);
* reported: a clause under a reporting verb ("claimed that ...", "..., he said") or with
  "according to X"; the source is the reporting verb's subject or X.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Token

from pipeline.extract.lexicon import Lexicon

_CLAUSE_LINKS = frozenset({"ccomp", "xcomp", "conj", "advcl", "relcl", "parataxis", "acl", "pcomp", "csubj"})
_HYPOTHETICAL_LINKS = frozenset({"conj", "xcomp", "ccomp"})
_CONDITION = frozenset({"if", "unless", "whether"})
_MAX_DEPTH = 8


def negated(verb: Token) -> bool:
    return any(c.dep_ == "neg" for c in verb.children)


def _own_hypothetical(verb: Token, lex: Lexicon) -> bool:
    for c in verb.children:
        if c.dep_ == "aux" and (c.lower_ in lex.hypothetical_aux or c.lemma_.lower() in lex.hypothetical_aux):
            return True
        if c.dep_ == "mark" and c.lower_ in _CONDITION:
            return True
    return verb.dep_ == "xcomp" and verb.head.lemma_.lower() in lex.intent


def _according_to(verb: Token) -> Token | None:
    for c in verb.children:
        if c.dep_ == "prep" and c.lower_ == "according":
            for to in c.children:
                if to.lower_ == "to":
                    for obj in to.children:
                        if obj.dep_ == "pobj":
                            return obj
    return None


def _subject(verb: Token) -> Token | None:
    for c in verb.children:
        if c.dep_ in ("nsubj", "nsubjpass"):
            return c
    return None


@dataclass(frozen=True)
class Modality:
    """How a clause is told: ``mode`` asserted | hypothetical | reported; for reported speech, who
    reported it (``source``, a token) and the reporting verb (``reporter``) when there is one."""

    mode: str
    source: Token | None = None
    reporter: Token | None = None


def modality(verb: Token, lex: Lexicon) -> Modality:
    """The modality of the clause headed by ``verb``. Reported speech wins over a modal under it:
    "X said Y will cut jobs" is reported, with X as its source."""
    cur, depth = verb, 0
    reported: Modality | None = None
    hypothetical = False
    inherit = True  # a modal reaches down through conj/xcomp/ccomp only, not into "after ..." clauses
    while depth < _MAX_DEPTH and reported is None:
        if inherit and _own_hypothetical(cur, lex):
            hypothetical = True
        acc = _according_to(cur)
        if acc is not None:
            reported = Modality("reported", acc)
            break
        if cur.dep_ not in _CLAUSE_LINKS or cur.head.i == cur.i:
            break
        head = cur.head
        if cur.dep_ in ("ccomp", "parataxis") and lex.reports(head.lemma_.lower()):
            reported = Modality("reported", _subject(head), head)
        inherit = inherit and cur.dep_ in _HYPOTHETICAL_LINKS
        cur, depth = head, depth + 1
    return reported or Modality("hypothetical" if hypothetical else "asserted")
