"""Labels an analyst would accept: the model's PERSON/ORG/GPE confusions corrected with evidence (issue 13.4).

:func:`relabel` is a pure step over an article's entities (``EntityState``) and its text: it returns
new entities and leaves its input as it was. Each entity of those three labels gets a score per
label: the model's own label counts :data:`PRIOR` (a GPE the gazetteer does not know counts less),
and each piece of evidence adds its weight:

* place names from the gazetteer (``pipeline.geo``: countries and first-level divisions, cities by
  size), "in X", "X-based", "X, the capital";
* corporate cues: a legal or corporate suffix in the name (Ltd, plc, Inc, AG, SA, Corp, Group,
  Holdings...), "&" in the name, and context around its mentions ("shares in X", "takeover of X",
  "bid for X", "oil firm X", "X's chief executive", "X shares", "X said in a statement",
  "X, which owns...", "London-based X");
* first-name evidence: a name of two words or more whose first word is a first name of
  ``gender-guesser``'s dictionary (40,000 names of 54 countries, shipped with the package);
* honorifics before a mention ("Mr Ebbers") or in the name; the honorific is then dropped from the
  name ("Mr Ebbers" -> "Ebbers"), and two entities left with one name become one.

The label changes when another label scores at least :data:`MIN_SCORE` and more than the model's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

from pipeline.extract.entities import EntityState, name_key
from pipeline.geo import Gazetteer, default_gazetteer
from pipeline.names import HONORIFIC_PATTERN, is_honorific, strip_honorific

LABELS = frozenset({"PERSON", "ORG", "GPE"})
PRIOR = 1.5  # the model's label
PRIOR_UNKNOWN_PLACE = 0.5  # a GPE that no gazetteer entry has
MIN_SCORE = 2.0
CONTEXT_CAP = 4.0  # context cues of one label count at most this much, however many mentions
WINDOW = 60

_SUFFIX = frozenset({
    "ltd", "ltd.", "plc", "inc", "inc.", "ag", "sa", "s.a.", "nv", "n.v.", "corp", "corp.", "corporation",
    "group", "holdings", "co", "co.", "llc", "gmbh", "bros", "bros.", "industries", "airways", "airlines",
    "motors", "bank", "telecom", "pharmaceuticals", "petroleum", "energy", "communications", "capital",
    "securities", "partners", "associates", "entertainment", "records", "studios", "enterprises", "spa",
    "s.p.a.", "ab", "asa", "oyj", "bv", "pty", "limited", "incorporated", "company", "systems", "media",
})
_ORG_NOUNS = (r"firm|firms|company|companies|giant|group|monopoly|maker|makers|producer|carrier|airline|"
              r"bank|retailer|chain|brand|brands|rival|owner|operator|conglomerate|insurer|unit|subsidiary|"
              r"manufacturer|supermarket|utility|distributor|broadcaster|publisher|label|agency|exchange|"
              r"club|side|outfit|business|lender|supplier|developer|network|station|newspaper|team")
_OWN = r"(?:['’]s?|s['’])?"
# (label, weight, regex on the text before a mention, anchored at its end)
BEFORE: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("PERSON", 3.0, re.compile(r"(?<![\w.])" + HONORIFIC_PATTERN + r"\s+$")),
    ("ORG", 2.0, re.compile(r"\b(?:shares|stake|stakes|holding|holdings|investment|invest|invested)\s+(?:in|of)\s+$",
                            re.I)),
    ("ORG", 2.0, re.compile(r"\b(?:takeover|acquisition|purchase|buyout|merger|bid|offer)\s+(?:of|with|for)\s+$",
                            re.I)),
    ("ORG", 2.0, re.compile(r"\b(?:" + _ORG_NOUNS + r")\s+$")),
    ("ORG", 1.5, re.compile(r"-based\s+(?:[\w-]+\s+){0,3}$")),
    ("GPE", 1.0, re.compile(r"(?<!shares )(?<!stake )(?<!stakes )\b(?:in|near|outside|across|from|to|left|visited)"
                            r"\s+(?:the\s+)?$")),
    ("GPE", 2.0, re.compile(r"\b(?:city|capital|town|port|province|region)\s+of\s+$", re.I)),
)
# (label, weight, regex on the text after a mention, anchored at its start)
AFTER: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("GPE", 2.0, re.compile(r"^-based\b")),
    ("GPE", 2.0, re.compile(r"^,\s+(?:the\s+)?(?:capital|city|port|town)\b")),
    ("ORG", 2.0, re.compile(
        r"^" + _OWN + r"\s+(?:shares?|stock|shareholders|chief executive|chief financial officer|boss|bosses|"
        r"chairman|chairwoman|board|profits?|revenues?|sales|turnover|subsidiary|subsidiaries|units?|stake|"
        r"brands?|executives|directors|share price|takeover|owners?|headquarters|workforce|staff|"
        r"employees|factory|factories|plants?|stores?|shops?|results|earnings|customers|investors|"
        r"spokes(?:man|woman|person))\b")),
    ("ORG", 2.0, re.compile(r"^\s+said in a statement\b")),
    ("ORG", 2.0, re.compile(r"^,?\s+(?:which|that)\s+(?:owns|makes|sells|employs|operates|produces|"
                            r"runs|manufactures|bought|acquired)\b")),
    ("ORG", 2.0, re.compile(r"^,\s+(?:the|a|an)\s+(?:[\w'’-]+\s+){0,4}(?:" + _ORG_NOUNS + r")\b")),
    ("ORG", 2.0, re.compile(r"^\s+(?:vodka|whisky|whiskey|brandy|cognac|beer|lager|ice cream|cola|"
                            r"champagne|wine|cigarettes)\b")),
)
_COUNTRY_KINDS = frozenset({"country", "admin1"})


@lru_cache(maxsize=1)
def _first_names() -> Callable[[str], str]:
    """gender-guesser's name dictionary: first name -> male, female, mostly_male, mostly_female, andy, unknown."""
    import gender_guesser.detector as gd

    return gd.Detector(case_sensitive=False).get_gender


def first_name_weight(word: str, names: Callable[[str], str] | None = None) -> float:
    """2 for a first name of one gender, 1 for one used by both or mostly by one, 0 for none."""
    gender = (names or _first_names())(word)
    return 2.0 if gender in ("male", "female") else 1.0 if gender in ("mostly_male", "mostly_female", "andy") else 0.0


def _place_weight(name: str, gazetteer: Gazetteer) -> float:
    """The gazetteer's evidence that ``name`` is a place: 2 for a country or a state, 1.5 for a city of
    100,000 people or more, 1 for a smaller one, 0.5 for an alternate name only, 0 when unknown."""
    best = 0.0
    for c in gazetteer.lookup(name):
        if not c.primary:
            w = 0.5
        elif c.place.kind in _COUNTRY_KINDS:
            w = 2.0
        elif c.place.kind == "city":
            w = 1.5 if (c.place.population or 0) >= 100_000 else 1.0
        else:
            w = 0.0
        best = max(best, w)
    return best


def _context(entity: EntityState, text: str) -> dict[str, float]:
    """Weights of the context cues around the entity's mentions, per label, each label capped."""
    found: dict[str, float] = {}
    for m in entity.mentions:
        before, after = text[max(0, m.start - WINDOW):m.start], text[m.end:m.end + WINDOW]
        hits: dict[str, float] = {}
        for label, weight, rx in BEFORE:
            if rx.search(before):
                hits[label] = max(hits.get(label, 0.0), weight)
        for label, weight, rx in AFTER:
            if rx.search(after):
                hits[label] = max(hits.get(label, 0.0), weight)
        if "ORG" in hits and hits.get("GPE", 0.0) <= 1.0:  # "shares in X": not a place
            hits.pop("GPE", None)
        for label, w in hits.items():
            found[label] = min(CONTEXT_CAP, found.get(label, 0.0) + w)
    return found


def scores(entity: EntityState, text: str, gazetteer: Gazetteer,
           names: Callable[[str], str] | None = None) -> dict[str, float]:
    """Each label's score for one entity: the model's prior plus the evidence (see the module docstring)."""
    name = entity.name
    words = name.split()
    place = _place_weight(name, gazetteer)
    s = dict.fromkeys(LABELS, 0.0)
    s[entity.label] = PRIOR_UNKNOWN_PLACE if entity.label == "GPE" and place == 0 else PRIOR
    for label, w in _context(entity, text).items():
        if not (label == "ORG" and place >= 2.0):  # "US shares", "UK firms": a country's adjective
            s[label] += w
    s["GPE"] += place
    corporate = bool(words) and (words[-1].lower() in _SUFFIX or "&" in name)
    if corporate:
        s["ORG"] += 3.0
    if words and is_honorific(words[0]):
        s["PERSON"] += 3.0
    elif len(words) >= 2 and not corporate and place == 0:
        s["PERSON"] += first_name_weight(words[0], names)
    return s


def decide(entity: EntityState, score: dict[str, float]) -> str:
    """The label with the most evidence when it beats the model's label and reaches MIN_SCORE."""
    best = max(sorted(score), key=lambda lab: score[lab])
    if best != entity.label and score[best] >= MIN_SCORE and score[best] > score[entity.label]:
        return best
    return entity.label


def relabel(entities: Sequence[EntityState], text: str, *, gazetteer: Gazetteer | None = None,
            names: Callable[[str], str] | None = None) -> list[EntityState]:
    """New entities with corrected labels and names (the input is left as it was).

    ``text``: the article body the mentions' offsets point into; ``gazetteer``: default
    ``pipeline.geo.default_gazetteer()``; ``names``: first name -> gender (default gender-guesser's).
    Only PERSON, ORG and GPE entities change; their mentions are copied with the new label.
    """
    gaz = gazetteer if gazetteer is not None else default_gazetteer()
    out: list[EntityState] = []
    for e in entities:
        if e.label not in LABELS:
            out.append(replace(e, mentions=list(e.mentions), roles=list(e.roles)))
            continue
        label = decide(e, scores(e, text, gaz, names))
        name = strip_honorific(e.name) if label == "PERSON" else e.name
        out.append(replace(e, name=name, label=label, key=name_key(name) if name != e.name else e.key,
                           roles=list(e.roles),
                           mentions=[replace(m, label=label) if m.label != label else m for m in e.mentions]))
    return _merge_same_name(out)


def _merge_same_name(entities: list[EntityState]) -> list[EntityState]:
    """Entities of one label left with one name ("Mr Ebbers" and "Ebbers") become one, in first-seen order;
    every mention's ``entity`` index is set to its entity's new position."""
    slot: dict[tuple[str, str], int] = {}
    groups: list[list[EntityState]] = []
    for e in entities:
        k = (e.key or name_key(e.name), e.label)
        if k in slot:
            groups[slot[k]].append(e)
        else:
            slot[k] = len(groups)
            groups.append([e])
    merged = []
    for i, group in enumerate(groups):
        first = group[0]
        mentions = sorted((m for e in group for m in e.mentions), key=lambda m: (m.start, m.end))
        roles = list(dict.fromkeys(r for e in group for r in e.roles))
        merged.append(replace(first, roles=roles,
                              mentions=[m if m.entity == i else replace(m, entity=i) for m in mentions]))
    return merged
