"""Which reading of a trigger a sentence gives: the tests the event rules apply to one verb or one Doc.

Pure functions over spaCy tokens, no state: the article's domains ("sport": a match report, where
"saved", "struck" and "fed" describe play), a habitual present ("BT sells net services", a state of
affairs, not a happening), an award named by "best" ("named best actress"), what a request or an
undertaking asks for, and the words of a clause that are its own (not those of a clause under it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from spacy.tokens import Doc, Token

from pipeline.extract.lexicon import Domain

_CLAUSE_DEPS = frozenset({"advcl", "relcl", "ccomp", "xcomp", "conj", "acl", "pcomp", "csubj", "parataxis"})
_PRESENT = frozenset({"VBZ", "VBP"})
_COMPLEMENT_PREPS = frozenset({"for", "to", "as"})
_PREDICATE_DEPS = frozenset({"dobj", "oprd", "attr", "xcomp"})


def doc_domains(doc: Doc, domains: Mapping[str, Domain]) -> frozenset[str]:
    """The domains whose cue nouns make at least their ``min_share`` of the Doc's words."""
    if not domains or not len(doc):
        return frozenset()
    lemmas = [t.lemma_.lower() for t in doc if t.pos_ in ("NOUN", "PROPN")]
    words = sum(1 for t in doc if t.is_alpha)
    return frozenset(name for name, d in domains.items()
                     if words and sum(1 for lm in lemmas if lm in d.cues) / words >= d.min_share)


def habitual(verb: Token) -> bool:
    """A verb in the simple present with no auxiliary: "BT sells net services", "Turkey occupies...";
    not under "if", "when" or "once" ("if Hamas attacks the convoy": a condition)."""
    return verb.tag_ in _PRESENT and not any(c.dep_ in ("aux", "auxpass", "neg", "mark") for c in verb.children)


def complement(verb: Token) -> bool:
    """What a request or an undertaking asks for: "asked them to leave", "asked for a delay", "agreed to a
    deal", "named him as coach", "named him coach"."""
    return any(c.dep_ in ("xcomp", "oprd") or (c.dep_ == "prep" and c.lower_ in _COMPLEMENT_PREPS
                                               and any(g.dep_ == "pobj" for g in c.children))
               for c in verb.children)


def best_of(verb: Token) -> bool:
    """An award named by "best": "won best actress", "was named best supporting actress"."""
    return any(c.dep_ in _PREDICATE_DEPS and any(g.lower_ == "best" for g in c.children) for c in verb.children)


def own_tokens(verb: Token) -> Iterator[Token]:
    """The verb's clause without the clauses under it ("raised targets after selling a million": not
    "a million")."""
    stack = [verb]
    while stack:
        tok = stack.pop()
        yield tok
        stack.extend(c for c in tok.children if c.dep_ not in _CLAUSE_DEPS)
