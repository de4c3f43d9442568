"""The editable PLOVER lexicon (``plover.json`` beside this module) as lookup tables.

The file's ``_about`` block documents its sections. Load a different file with
``Lexicon.from_file(path)``; the default one is cached.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PLOVER_TYPES = frozenset({"AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
                          "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"})
OTHER = "OTHER"


def _invert(section: dict[str, list[str]], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for ptype, words in section.items():
        if ptype not in PLOVER_TYPES:
            raise ValueError(f"plover lexicon: unknown type {ptype!r} in {where}")
        for w in words:
            out.setdefault(" ".join(w.lower().split()), ptype)  # first listing wins
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

    @classmethod
    def from_dict(cls, data: dict) -> Lexicon:
        def words(key: str) -> frozenset[str]:
            return frozenset(w.lower() for w in data.get(key, []))

        return cls(verbs=_invert(data.get("verbs", {}), "verbs"),
                   phrases=_invert(data.get("phrases", {}), "phrases"),
                   nouns=_invert(data.get("nouns", {}), "nouns"),
                   ignore=words("ignore"), reporting=words("reporting"),
                   hypothetical_aux=words("hypothetical_aux"), intent=words("intent"),
                   role_nouns=words("role_nouns"), group_nouns=words("group_nouns"))

    @classmethod
    def from_file(cls, path: str | Path) -> Lexicon:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def verb_type(self, lemma: str, obj_or_particle: str | None = None) -> tuple[str, str | None]:
        """(PLOVER type, matched phrase or None) for a verb lemma and its object or particle lemma."""
        if obj_or_particle:
            phrase = f"{lemma} {obj_or_particle}"
            if phrase in self.phrases:
                return self.phrases[phrase], phrase
            if phrase in self.verbs:
                return self.verbs[phrase], phrase
        return self.verbs.get(lemma, OTHER), None

    def repair_lemma(self, lemma: str, form: str) -> str:
        """Undo the small model's dropped final "e" ("fined" -> "fin") for lemmas the lexicon knows."""
        if lemma in self.verbs or lemma in self.ignore or lemma in self.reporting:
            return lemma
        fixed = lemma + "e"
        known = fixed in self.verbs or fixed in self.ignore or fixed in self.reporting
        if known and (form.startswith(fixed) or form == lemma + "ing"):  # fined, fines, fining; not hopped
            return fixed
        return lemma

    def noun_type(self, lemma: str) -> str | None:
        return self.nouns.get(lemma)


@functools.lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    text = resources.files("pipeline.extract").joinpath("plover.json").read_text(encoding="utf-8")
    return Lexicon.from_dict(json.loads(text))
