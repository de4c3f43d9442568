"""The editable event lexicon (``lexicon.json`` beside this module) as lookup tables.

The file's ``_about`` block documents its sections. ``types`` holds the taxonomy: each type's family
(political for PLOVER's sixteen, business, justice, personnel, life, sport...), the PLOVER type a
political coder would give it, a definition and an example. Load a different file with
``Lexicon.from_file(path)``; the default one is cached. A word section naming a type the taxonomy
does not define, or a word listed under two types of one section, raises ``LexiconError`` naming
the file and line.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.extract.senses import VERB_LEXNAMES

PLOVER_TYPES = frozenset({"AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
                          "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"})
OTHER = "OTHER"
STATEMENT = "STATEMENT"
_BUILT_IN = {OTHER: "other", STATEMENT: "statement"}  # type -> family
_WORD_SECTIONS = ("verbs", "phrases", "nouns")


class LexiconError(ValueError):
    """A lexicon file that cannot be used: the message names the file, the line and why."""


@dataclass(frozen=True)
class Domain:
    """A kind of report recognised by its nouns ("sport": striker, penalty, league), in which some words
    name no event ("saved", "struck": play in a match)."""

    cues: frozenset[str]
    min_share: float
    no_event: frozenset[str]
    retype: dict[str, str] = field(default_factory=dict)  # type -> the type it has there ("PLAY" -> "PERFORM")


@dataclass(frozen=True)
class TypeInfo:
    family: str
    plover: str | None = None
    definition: str = ""
    example: str = ""


def _key(word: str) -> str:
    return " ".join(word.lower().split())


def _line_of(text: str, needle: str, nth: int = 0, section: str | None = None) -> int:
    """1-based line of the ``nth`` occurrence of the JSON string ``needle`` in ``text`` (in ``section``
    when given), or 0 when it cannot be found."""
    start = text.find(json.dumps(section) + ":") if section else 0
    pattern = re.escape(json.dumps(needle, ensure_ascii=False))
    hits = [m.start() for m in re.finditer(pattern, text[max(start, 0):])]
    hits = [h + max(start, 0) for h in hits]
    return text.count("\n", 0, hits[min(nth, len(hits) - 1)]) + 1 if hits else 0


def _types(data: dict[str, Any], where: str, text: str) -> dict[str, TypeInfo]:
    out = {t: TypeInfo(family) for t, family in _BUILT_IN.items()}
    raw = data.get("types")
    if raw is None:  # a file of word lists only: PLOVER's types, all political
        return {**out, **{t: TypeInfo("political", t) for t in PLOVER_TYPES}}
    for name, info in raw.items():
        if not isinstance(info, dict) or not isinstance(info.get("family"), str):
            raise LexiconError(f"{where}:{_line_of(text, name)}: type {name!r} needs a 'family'")
        out[name] = TypeInfo(family=info["family"], plover=info.get("plover"),
                             definition=info.get("definition", ""), example=info.get("example", ""))
    return out


def _invert(data: dict[str, Any], section: str, types: dict[str, TypeInfo], where: str, text: str
            ) -> dict[str, str]:
    out: dict[str, str] = {}
    for etype, words in data.get(section, {}).items():
        if etype not in types:
            raise LexiconError(f"{where}:{_line_of(text, etype, section=section)}: {section}: unknown type {etype!r} "
                               f"(the types are listed under 'types')")
        for w in words:
            k = _key(w)
            if k in out and out[k] != etype:
                line = _line_of(text, w, nth=1, section=section)
                raise LexiconError(f"{where}:{line}: {section}: {w!r} is listed under both {out[k]} and {etype}")
            out[k] = etype
    return out


_KINDS = ("party", "person", "org", "who", "place", "thing")
_NEEDS = ("actor", "target", "object", "complement")
_CONSTRAINT_KEYS = {"target": _KINDS, "actor": _KINDS, "figure": (True,)}


def _bad_key(key: str, value: Any) -> bool:
    if key == "need":  # a list of alternatives, one of which must be present
        return not (isinstance(value, list) and value and all(v in _NEEDS for v in value))
    return value not in _CONSTRAINT_KEYS.get(key, ())


def _constraints(data: dict[str, Any], types: dict[str, TypeInfo], where: str, text: str) -> dict[str, dict[str, Any]]:
    out = data.get("constraints", {})
    for etype, rule in out.items():
        line = _line_of(text, etype, section="constraints")
        if etype.split(":")[0] not in types or rule.get("else", OTHER) not in types:
            raise LexiconError(f"{where}:{line}: constraints: unknown type {etype!r} or {rule.get('else')!r}")
        bad = [k for k, v in rule.items() if k != "else" and _bad_key(k, v)]
        if bad:
            allowed = (f"a list of {_NEEDS}" if bad[0] == "need"
                       else _CONSTRAINT_KEYS.get(bad[0], "target, actor, figure, need"))
            raise LexiconError(f"{where}:{line}: constraints: {etype}: {bad[0]!r} must be one of {allowed}")
    return dict(out)


def _senses(data: dict[str, Any], where: str, text: str) -> frozenset[str]:
    """The ``no_happening_senses``: WordNet verb lexicographer files ("verb.stative")."""
    out = data.get("no_happening_senses", [])
    for name in out:
        if name not in VERB_LEXNAMES:
            line = _line_of(text, name, section="no_happening_senses")
            raise LexiconError(f"{where}:{line}: no_happening_senses: {name!r} is not a WordNet verb sense file "
                               f"(one of {', '.join(sorted(VERB_LEXNAMES))})")
    return frozenset(out)


def _domains(data: dict[str, Any], types: dict[str, TypeInfo], where: str, text: str) -> dict[str, Domain]:
    out = {}
    for name, d in data.get("domains", {}).items():
        line = _line_of(text, name, section="domains")
        share = d.get("min_share") if isinstance(d, dict) else None
        if not isinstance(share, (int, float)) or not 0 < share < 1 or not d.get("cues"):
            raise LexiconError(f"{where}:{line}: domains: {name!r} needs 'cues' (nouns) and a 'min_share' "
                               "between 0 and 1")
        retype = dict(d.get("retype", {}))
        bad = [t for pair in retype.items() for t in pair if t not in types]
        if bad:
            raise LexiconError(f"{where}:{line}: domains: {name!r}: retype: unknown type {bad[0]!r}")
        out[name] = Domain(frozenset(_key(w) for w in d["cues"]), float(share),
                           frozenset(_key(w) for w in d.get("no_event", [])), retype)
    return out


@dataclass(frozen=True)
class Lexicon:
    verbs: dict[str, str]
    phrases: dict[str, str]
    nouns: dict[str, str]
    ignore: frozenset[str]
    reporting: frozenset[str]
    hypothetical_aux: frozenset[str]
    intent: frozenset[str]
    role_nouns: frozenset[str]
    group_nouns: frozenset[str]
    types: dict[str, TypeInfo]
    sectors: dict[str, str]  # head noun -> agent sector
    reporting_typed: frozenset[str] = frozenset()
    org_target: dict[str, str] | None = None  # type -> the type it becomes when the target is an organisation
    constraints: dict[str, dict[str, Any]] | None = None  # type -> what its arguments must be (see _about)
    figure_nouns: frozenset[str] = frozenset()
    place_nouns: frozenset[str] = frozenset()
    no_happening: frozenset[str] = frozenset()  # WordNet verb senses of no event (see _about)
    domains: dict[str, Domain] = field(default_factory=dict)  # name -> its cues and words of no event
    habitual_present: bool = False  # a simple present with no date is a state of affairs, not an event

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "<lexicon>", text: str = "") -> Lexicon:
        def words(key: str) -> frozenset[str]:
            return frozenset(_key(w) for w in data.get(key, []))

        types = _types(data, where, text)
        tables = {s: _invert(data, s, types, where, text) for s in _WORD_SECTIONS}
        org_target = data.get("org_target", {})
        for a, b in org_target.items():
            for t in (a, b):
                if t not in types:
                    line = _line_of(text, t, section="org_target")
                    raise LexiconError(f"{where}:{line}: org_target: unknown type {t!r}")
        sectors: dict[str, str] = {}
        for sector, nouns in data.get("sectors", {}).items():
            for n in nouns:
                sectors.setdefault(_key(n), sector)
        return cls(**tables, ignore=words("ignore"), reporting=words("reporting"),
                   hypothetical_aux=words("hypothetical_aux"), intent=words("intent"),
                   role_nouns=words("role_nouns"), group_nouns=words("group_nouns"), types=types,
                   sectors=sectors, reporting_typed=words("reporting_typed"), org_target=dict(org_target),
                   constraints=_constraints(data, types, where, text), figure_nouns=words("figure_nouns"),
                   place_nouns=words("place_nouns"), no_happening=_senses(data, where, text),
                   domains=_domains(data, types, where, text), habitual_present=bool(data.get("habitual_present")))

    @classmethod
    def from_file(cls, path: str | Path) -> Lexicon:
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LexiconError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
        return cls.from_dict(data, str(path), text)

    def family(self, etype: str) -> str:
        info = self.types.get(etype)
        return info.family if info else "other"

    def plover(self, etype: str) -> str | None:
        info = self.types.get(etype)
        return info.plover if info else None

    def reports(self, lemma: str) -> bool:
        """Does this verb put the clause under it in reported speech?"""
        return lemma in self.reporting or lemma in self.reporting_typed

    def verb_type(self, lemma: str, obj_or_particle: str | None = None) -> tuple[str, str | None]:
        """(type, matched phrase or None) for a verb lemma and its object or particle lemma."""
        if obj_or_particle:
            phrase = f"{lemma} {obj_or_particle}"
            if phrase in self.phrases:
                return self.phrases[phrase], phrase
            if phrase in self.verbs:
                return self.verbs[phrase], phrase
        return self.verbs.get(lemma, OTHER), None

    def repair_lemma(self, lemma: str, form: str) -> str:
        """Undo the small model's dropped final "e" ("fined" -> "fin") for lemmas the lexicon knows."""
        if self._known(lemma):
            return lemma
        fixed = lemma + "e"
        if self._known(fixed) and (form.startswith(fixed) or form == lemma + "ing"):  # fined, fining; not hopped
            return fixed
        return lemma

    def _known(self, lemma: str) -> bool:
        return lemma in self.verbs or lemma in self.ignore or lemma in self.reporting

    def noun_type(self, lemma: str, modifier: str | None = None) -> str | None:
        if modifier:
            pair = self.nouns.get(f"{modifier} {lemma}")
            if pair:
                return pair
        return self.nouns.get(lemma)


def _packaged_text() -> str:
    return resources.files("pipeline.extract").joinpath("lexicon.json").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    text = _packaged_text()
    return Lexicon.from_dict(json.loads(text), "pipeline/extract/lexicon.json", text)
