"""Who an event argument refers to: names, appositions, role phrases, group nouns and pronouns.

One left-to-right pass over the tokens (``Resolver.__init__``) resolves, in text order:

* appositions: "the head of the mercenary group, Yevgeny Prigozhin" -> Yevgeny Prigozhin (and the
  description becomes one of his roles); "the ruler Lukashenko" -> Alexander Lukashenko;
* role phrases: "the Belarusian leader" -> the person whose roles share most words with the phrase
  ("Belarusian President"), ties to the most recently mentioned; role nouns are in lexicon.json;
* group phrases: "the Wagner troops" -> the entity named in the phrase; "the mercenaries" -> the
  last entity seen named with that group noun ("the Wagner mercenaries");
* descriptions: "the ministry" -> the latest organisation named with the word; "the company", "the
  carmaker" -> the latest organisation mentioned;
* pronouns: "he"/"she" (and "him"/"her") -> the most recent subject before it that is a person (an
  object pronoun never its own clause's subject); "it"/"its" -> the latest organisation subject,
  "they"/"their" -> the latest subject when that was an organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.attrs import POS
from spacy.symbols import NOUN, PRON, PROPN
from spacy.tokens import Doc, Token

from pipeline.extract.entities import EntityState, RawMention, doc_text
from pipeline.extract.lexicon import Lexicon

PERSONAL = frozenset({"he", "she", "him", "her"})
ORG_PRONOUNS = frozenset({"it", "its", "they", "them", "their"})
SUBJECTS = frozenset({"nsubj", "nsubjpass"})
OBJECTS = frozenset({"dobj", "pobj", "dative"})
_COMPANY_SECTORS = frozenset({"business", "sport", "media", "arts"})
_NP_MODS = frozenset({"det", "amod", "compound", "nmod", "poss", "nummod", "quantmod", "case"})
# office holders a generic "leader" / "head" / "ruler" can refer to
_LEADERS = frozenset({"president", "leader", "ruler", "head", "boss", "chief", "premier", "dictator",
                      "strongman", "autocrat", "chairman", "chairwoman", "commander", "founder", "minister",
                      "chancellor", "king", "queen", "prince", "emir", "sultan", "governor", "mayor", "ceo"})
_STOP = frozenset({"the", "a", "an", "of", "his", "her", "its", "their"})


@dataclass(frozen=True)
class Ref:
    """A resolved argument: char span in the body and the entity index (-1 when none)."""

    start: int
    end: int
    entity: int = -1
    sector: str | None = None  # an unnamed agent's sector, from its head noun ("police": police)


def base_np(tok: Token) -> tuple[int, int]:
    """Char span of the noun phrase headed by ``tok`` without relative clauses, appositions or PPs."""
    left = tok.i
    for c in tok.lefts:
        if c.dep_ in _NP_MODS:
            left = min(left, c.left_edge.i)
    doc = tok.doc
    while left < tok.i and (doc[left].lower_ in {"the", "a", "an"} or doc[left].is_punct):
        left += 1
    return doc[left].idx, tok.idx + len(tok.text)


def doc_compound(tok: Token) -> bool:
    """Is the token before ``tok`` a compound modifier of it?"""
    prev = tok.doc[tok.i - 1]
    return prev.dep_ == "compound" and prev.head.i == tok.i


def _role_words(text: str) -> set[str]:
    return {w for w in text.lower().replace("’", "'").split() if w not in _STOP}


class _Recent:
    """What the walk has seen so far: person subjects in order, organisations mentioned, the last subject."""

    def __init__(self) -> None:
        self.persons: list[int] = []
        self.orgs: list[int] = []
        self.org = -1  # the latest organisation subject
        self.last = -1  # the latest subject's entity (-1: a subject with none)

    def org_seen(self, e: int) -> None:
        if not self.orgs or self.orgs[-1] != e:
            self.orgs.append(e)

    def subject(self, e: int, entities: list[EntityState]) -> None:
        self.last = e
        if e >= 0 and entities[e].label == "PERSON":
            if e in self.persons:
                self.persons.remove(e)
            self.persons.append(e)
        elif e >= 0 and entities[e].label == "ORG":
            self.org = e


class Resolver:
    """Resolve argument tokens of one Doc to entities (see the module docstring)."""

    def __init__(self, doc: Doc, mentions: list[RawMention], entities: list[EntityState], lex: Lexicon):
        self.doc, self.entities, self.lex = doc, entities, lex
        self.text = doc_text(doc)
        self.tok2m = [-1] * len(doc)
        for mi, m in enumerate(mentions):
            for k in range(m.ts, m.te):
                self.tok2m[k] = mi
        self.mentions = mentions
        self.roles: dict[int, set[str]] = {i: set().union(*(_role_words(r) for r in e.roles))
                                           if e.roles else set() for i, e in enumerate(entities)}
        self.nominal: dict[int, int] = {}  # token index -> entity index
        self.found_roles: dict[int, list[str]] = {}  # entity index -> roles read from appositions
        self._walk()

    # ------------------------------------------------------------------ the pass
    def _walk(self) -> None:
        doc = self.doc
        recent = _Recent()
        self._recent = recent
        last_seen: dict[int, int] = {}  # person entity -> last token index mentioned
        groups: dict[str, int] = {}  # group noun / modifier -> entity
        pos = doc.to_array([POS]).ravel().tolist()
        wanted = (PRON, NOUN, PROPN)
        for i in range(len(doc)):  # only names, nouns and pronouns need a Token object
            if pos[i] not in wanted and self.tok2m[i] < 0:
                continue
            self._visit(doc[i], recent, last_seen, groups)

    def _visit(self, tok: Token, recent: _Recent, last_seen: dict[int, int], groups: dict[str, int]) -> None:
        """One name, noun or pronoun of the walk: whom it refers to, and what the rest of the walk learns."""
        ents = self.entities
        mi = self.tok2m[tok.i]
        low = tok.lower_
        found = -1
        if mi >= 0:
            self._named(tok, self.mentions[mi], last_seen, groups)
        elif tok.pos_ == "PRON" and (low in PERSONAL or low in ORG_PRONOUNS):
            found = self._pronoun(tok, recent, last_seen)
        elif tok.pos_ in {"NOUN", "PROPN"}:
            found = self._noun(tok, last_seen, groups)
        if found >= 0:
            self.nominal[tok.i] = found
            if ents[found].label == "PERSON":
                last_seen[found] = tok.i
        if mi >= 0 and ents[self.mentions[mi].entity].label == "ORG":
            recent.org_seen(self.mentions[mi].entity)
        if tok.dep_ in SUBJECTS or (tok.dep_ == "pobj" and tok.head.dep_ == "agent"):
            recent.subject(self.entity_of(tok), ents)

    def _named(self, tok: Token, m: RawMention, last_seen: dict[int, int], groups: dict[str, int]) -> None:
        """A token of a named mention: a person's latest mention; the last word of another name, when it is
        a group noun, names that entity's group ("Northwind Company" -> "the company")."""
        e = m.entity
        if e >= 0 and self.entities[e].label == "PERSON":
            last_seen[e] = tok.i
        if tok.i == m.te - 1 and self.entities[e].label != "PERSON":
            for w in (tok.lower_, tok.lemma_.lower()):
                if w in self.lex.group_nouns:
                    groups[w] = e

    def _noun(self, tok: Token, last_seen: dict[int, int], groups: dict[str, int]) -> int:
        """A noun: its named apposition, else the person a role phrase describes, else the group it names."""
        found = self._appos(tok)
        if found >= 0 and self.entities[found].label == "PERSON":
            self._appos_role(tok, found)
        lemma = tok.lemma_.lower()
        if found < 0 and lemma in self.lex.role_nouns and tok.tag_ not in ("NNS", "NNPS"):
            found = self._role(tok, lemma, last_seen)
        if found < 0 and (lemma in self.lex.group_nouns or tok.lower_ in self.lex.group_nouns):
            found = self._group(tok, lemma, groups)
        return found

    def _appos_role(self, tok: Token, person: int) -> None:
        """The phrase a person's name stands in apposition to ("the head of the mercenary group") gives
        the person its role words, and is one of the person's roles when its head is a role noun."""
        s, end = base_np(tok)
        for c in tok.rights:  # "the head of the mercenary group"
            obj = next((o for o in c.children if o.dep_ == "pobj"), None) if c.lower_ == "of" else None
            if obj is not None and c.dep_ == "prep":
                end = base_np(obj)[1]
        role = self.text[s:end]
        self.roles[person] |= _role_words(role)
        if tok.lemma_.lower() in self.lex.role_nouns:  # the apposition is one of the person's roles
            self.found_roles.setdefault(person, []).append(role)

    def _pronoun(self, tok: Token, recent: _Recent, last_seen: dict[int, int]) -> int:
        """he/she -> the latest person subject (for an object pronoun, not its own clause's subject:
        "Weinstein attacked her" is not Weinstein); it/its -> the latest organisation subject;
        they/their -> the latest subject when it was an organisation."""
        low = tok.lower_
        if low in ORG_PRONOUNS:
            if low in ("it", "its"):
                return recent.org
            return recent.last if recent.last >= 0 and self.entities[recent.last].label == "ORG" else -1
        if tok.dep_ in OBJECTS:  # any person seen before, latest first, but the clause's own subject
            verb = tok.head.head if tok.dep_ == "pobj" else tok.head
            own = next((self.entity_of(c) for c in verb.children if c.dep_ in SUBJECTS), -1)
            seen = sorted(((i, e) for e, i in last_seen.items() if i < tok.i), reverse=True)
            return next((e for _, e in seen if e != own), -1)
        return recent.persons[-1] if recent.persons else -1

    def _appos_mention(self, tok: Token) -> RawMention | None:
        """The named apposition of ``tok``; for a role noun also one the parser hung on its "of" object
        ("the head of the rebel army, Ahmed Saleh")."""
        for c in tok.children:
            if c.dep_ == "appos" and self.tok2m[c.i] >= 0:
                return self.mentions[self.tok2m[c.i]]
        if tok.lemma_.lower() in self.lex.role_nouns:
            for prep in tok.children:
                if prep.dep_ == "prep" and prep.lower_ == "of":
                    for obj in prep.children:
                        if obj.dep_ == "pobj":
                            for c in obj.children:
                                mi = self.tok2m[c.i] if c.dep_ == "appos" else -1
                                if mi >= 0 and self.entities[self.mentions[mi].entity].label == "PERSON":
                                    return self.mentions[mi]
        return None

    def _appos(self, tok: Token) -> int:
        m = self._appos_mention(tok)
        return m.entity if m is not None else -1

    def _modifiers(self, tok: Token) -> tuple[set[str], int]:
        words, named = set(), -1
        for c in tok.lefts:
            if c.dep_ in {"amod", "compound", "nmod", "poss"}:
                mi = self.tok2m[c.i]
                if mi >= 0:
                    named = self.mentions[mi].entity
                words.add(c.lower_)
        return words, named

    def _role(self, tok: Token, lemma: str, last_seen: dict[int, int]) -> int:
        words, _ = self._modifiers(tok)
        best, best_key = -1, (0, -1)
        for e, seen in last_seen.items():
            if seen >= tok.i:
                continue
            roles = self.roles.get(e, set())
            score = len(words & roles) * 2
            if lemma in roles or (lemma in _LEADERS and roles & _LEADERS):
                score += 1
            key = (score, seen)
            if score > 0 and key > best_key:
                best, best_key = e, key
        return best

    def _group(self, tok: Token, lemma: str, groups: dict[str, int]) -> int:
        words, named = self._modifiers(tok)
        if named >= 0:
            if self.entities[named].label != "PERSON":
                for w in (*words, lemma):
                    groups[w] = named
                return named
            return -1
        if words and not any(w in groups for w in (*words, lemma)):
            return -1
        for w in (lemma, *sorted(words)):
            if w in groups:
                return groups[w]
        return self._description(tok, lemma)

    def _description(self, tok: Token, lemma: str) -> int:
        """"the ministry" -> the latest organisation named with that word ("Ministry of Finance");
        "the company" / "the carmaker" -> the latest organisation subject, else the latest mentioned."""
        if not any(c.dep_ == "det" and c.lower_ == "the" for c in tok.children) or tok.tag_ in ("NNS", "NNPS"):
            return -1
        orgs = self._recent.orgs
        named = next((e for e in reversed(orgs) if lemma in self.entities[e].key.split()), -1)
        if named >= 0 or self.lex.sectors.get(lemma) not in _COMPANY_SECTORS:
            return named
        if self._recent.org >= 0:
            return self._recent.org
        return orgs[-1] if orgs else -1

    # ------------------------------------------------------------------ lookups
    def entity_of(self, tok: Token) -> int:
        mi = self.tok2m[tok.i]
        if mi >= 0:
            return self.mentions[mi].entity
        e = self._appos(tok)
        if e >= 0:
            return e
        return self.nominal.get(tok.i, -1)

    def ref(self, tok: Token) -> Ref | None:
        """The span and entity an argument token stands for (None for the dateline city)."""
        mi = self.tok2m[tok.i]
        if mi >= 0 and self.mentions[mi].dateline:
            return None
        m = self._appos_mention(tok)  # "Judge of Nowshera, Shafiq Ahmad Tanoli": the apposed name
        if m is not None and (mi < 0 or self.entities[m.entity].label == "PERSON"):
            return Ref(m.start, m.end, m.entity)
        if mi >= 0:
            m = self.mentions[mi]
            return Ref(m.start, m.end, m.entity)
        s, e = base_np(tok)
        sectors = self.lex.sectors
        sector = sectors.get(tok.lemma_.lower()) or sectors.get(tok.lower_)
        if sector is None and tok.i > 0 and doc_compound(tok):  # "riot police"
            sector = sectors.get(f"{tok.doc[tok.i - 1].lower_} {tok.lower_}")
        return Ref(s, e, self.nominal.get(tok.i, -1), sector)
