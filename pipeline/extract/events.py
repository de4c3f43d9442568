"""Clause events (one per verb with an action) and nominal events ("a Russian attack on X").

For each clause: actor (subject, agent of a passive, the controller of an infinitive, the subject
shared by coordinated verbs), action (trigger lemma with its particle or light-verb object: "take
control"), target (object, passive subject, or the object of to/against/on/with...), location (a
place named in the clause), date (a date expression in the clause, normalised against publication),
negation, modality and its source, and the sentence. Types come from plover.json.

By default only events whose actor or target refers to a named entity are kept.
All work is linear in the number of tokens.
"""

from __future__ import annotations

import bisect
from datetime import date

from spacy.tokens import Doc, Token

from pipeline.extract.coref import Ref, Resolver
from pipeline.extract.dates import normalize_date
from pipeline.extract.entities import RawMention
from pipeline.extract.lexicon import Lexicon, default_lexicon
from pipeline.extract.modality import modality, negated
from pipeline.extract.records import Event, Span, Trigger

_RELATIVE = frozenset({"who", "that", "which", "whom"})
_TARGET_PREPS = ("against", "on", "to", "with", "into", "at", "toward", "towards", "over", "from")
_OBJECT_CONTROL = frozenset({"persuade", "ask", "urge", "invite", "order", "force", "allow", "tell", "encourage",
                             "convince", "call", "help", "enable", "permit", "compel", "pressure", "press"})
_PLACES = frozenset({"GPE", "LOC", "FAC"})
_DEMONSTRATIVE = frozenset({"this", "that", "it"})
_NOMINAL_ACTOR = frozenset({"poss", "amod", "compound", "nmod"})
_NOMINAL_TARGET_PREPS = frozenset({"on", "against", "to", "of", "into", "with"})


def _child(tok: Token, *deps: str) -> Token | None:
    for c in tok.children:
        if c.dep_ in deps:
            return c
    return None


def _is_trigger(tok: Token) -> bool:
    return tok.pos_ == "VERB" and tok.dep_ not in ("aux", "auxpass", "amod", "compound")


def _passive(verb: Token) -> bool:
    return any(c.dep_ in ("nsubjpass", "auxpass") for c in verb.children)


class _Clauses:
    """Arguments of each verb, with the fallbacks that need the head verb's arguments."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        self._actor: dict[int, Token | None] = {}

    def actor(self, verb: Token, depth: int = 0) -> Token | None:
        if verb.i in self._actor:
            return self._actor[verb.i]
        found: Token | None = None
        if _passive(verb):
            agent = _child(verb, "agent")
            found = _child(agent, "pobj") if agent is not None else None
        else:  # the subject nearest the verb ("MINSK – ... Lukashenko has invited": not the dateline)
            subjects = [c for c in verb.children if c.dep_ in ("nsubj", "csubj")]
            before = [c for c in subjects if c.i < verb.i]
            found = before[-1] if before else (subjects[0] if subjects else None)
        if found is not None and found.lower_ in _RELATIVE and verb.dep_ == "relcl":
            found = verb.head
        if found is None and depth < 6 and verb.head.i != verb.i:
            head = verb.head
            if verb.dep_ == "conj" and _is_trigger(head):
                found = self.actor(head, depth + 1)
            elif verb.dep_ in ("xcomp", "advcl") and head.pos_ in ("VERB", "AUX"):
                obj = _child(head, "dobj")
                if verb.dep_ == "xcomp" and obj is not None and head.lemma_.lower() in _OBJECT_CONTROL:
                    found = obj
                else:
                    found = _child(head, "nsubj", "nsubjpass")
                    if found is not None and found.lower_ in _RELATIVE and head.dep_ == "relcl":
                        found = head.head
        self._actor[verb.i] = found
        return found

    @staticmethod
    def target(verb: Token, skip: Token | None = None) -> Token | None:
        for c in verb.children:
            if c.dep_ == "dobj" and (skip is None or c.i != skip.i):
                if c.lower_ in _RELATIVE and verb.dep_ == "relcl":
                    return verb.head
                return c
        if _passive(verb):
            subj = _child(verb, "nsubjpass")
            if subj is not None:
                return verb.head if subj.lower_ in _RELATIVE and verb.dep_ == "relcl" else subj
        dative = _child(verb, "dative")
        if dative is not None:
            obj = _child(dative, "pobj")
            return obj if obj is not None else dative
        return _prep_object(verb, _TARGET_PREPS)


def _prep_object(tok: Token, preps: tuple[str, ...] | frozenset[str]) -> Token | None:
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ in preps:
            obj = _child(c, "pobj")
            if obj is not None:
                return obj
    return None


def _clause_heads(doc: Doc) -> list[int]:
    """For each token, the index of the nearest trigger verb above it (itself if it is one), or -1."""
    heads = [-2] * len(doc)
    for tok in doc:
        path, cur = [], tok
        while heads[cur.i] == -2:
            if _is_trigger(cur):
                heads[cur.i] = cur.i
                break
            path.append(cur.i)
            if cur.head.i == cur.i:
                heads[cur.i] = -1
                break
            cur = cur.head
        value = heads[cur.i]
        for i in path:
            heads[i] = value
    return heads


class _Builder:
    def __init__(self, doc: Doc, mentions: list[RawMention], entities: list[dict], published: date | None,
                 lex: Lexicon):
        self.doc, self.entities, self.published, self.lex = doc, entities, published, lex
        self.text = doc.text
        self.resolver = Resolver(doc, mentions, entities, lex)
        self.clauses = _Clauses(lex)
        self.clause_of = _clause_heads(doc)
        self.sents = [(s.start, s.end, s.start_char, s.end_char) for s in doc.sents]
        self._sent_starts = [s[0] for s in self.sents]
        # date expressions and places per clause, in text order
        self.dates: dict[int, tuple[str, int]] = {}
        for ent in doc.ents:
            if ent.label_ == "DATE":
                head = self.clause_of[ent.root.i]
                if head >= 0 and head not in self.dates:
                    self.dates[head] = (self._date_text(ent.start, ent.end), ent.root.i)
        self.places: dict[int, list[RawMention]] = {}
        for m in mentions:
            if m.entity >= 0 and entities[m.entity]["label"] in _PLACES:
                head = self.clause_of[m.te - 1]
                if head >= 0:
                    self.places.setdefault(head, []).append(m)

    def _date_text(self, s: int, e: int) -> str:
        doc = self.doc
        text = doc[s:e].text
        if text.count("(") > text.count(")") and e < len(doc) and doc[e].text == ")":
            text += ")"
        return text

    def sentence(self, tok_i: int) -> tuple[int, str]:
        k = bisect.bisect_right(self._sent_starts, tok_i) - 1
        _, _, cs, ce = self.sents[k]
        return k, self.text[cs:ce].strip()

    def span(self, ref: Ref | None) -> Span | None:
        if ref is None:
            return None
        ent = self.entities[ref.entity]["name"] if ref.entity >= 0 else None
        return Span(text=self.text[ref.start:ref.end], start=ref.start, end=ref.end, entity=ent)

    def date_of(self, verb: Token, future: bool) -> tuple[str | None, str | None]:
        cur, depth = verb, 0
        while True:
            found = self.dates.get(cur.i)
            if found:
                return normalize_date(found[0], self.published, future=future), found[0]
            if cur.dep_ != "conj" or depth > 4 or not _is_trigger(cur.head):
                return None, None
            cur, depth = cur.head, depth + 1

    def verb_event(self, verb: Token) -> tuple[int, Event] | None:
        lex = self.lex
        lemma = verb.lemma_.lower()
        prt = _child(verb, "prt")
        obj = _child(verb, "dobj")
        ptype, phrase, trig_end = None, None, verb
        if prt is not None:
            ptype, phrase = lex.verb_type(lemma, prt.lower_)
            phrase = phrase or f"{lemma} {prt.lower_}"
            if prt.i == verb.i + 1:
                trig_end = prt
        if obj is not None and (ptype is None or ptype == "OTHER"):
            t, p = lex.verb_type(lemma, obj.lemma_.lower())
            if p is None:
                t, p = lex.verb_type(lemma, obj.lower_)
            if p is not None:
                ptype, phrase = t, p
                if obj.i == trig_end.i + 1:
                    trig_end = obj
        if ptype is None or ptype == "OTHER" and phrase is None:
            ptype, _ = lex.verb_type(lemma)
        if phrase is None and lemma in lex.ignore:
            return None
        actor_tok = self.clauses.actor(verb)
        phrase_obj = obj if phrase is not None and obj is not None and phrase.endswith(obj.lemma_.lower()) else None
        if phrase_obj is None and phrase is not None and obj is not None and phrase.endswith(obj.lower_):
            phrase_obj = obj
        if phrase_obj is not None:  # "take control of X": X is the target
            target_tok = _prep_object(phrase_obj, ("of", "over", "on", "against", "to"))
            if target_tok is None:
                target_tok = self.clauses.target(verb, skip=phrase_obj)
        else:
            target_tok = self.clauses.target(verb)
        actor = self.resolver.ref(actor_tok) if actor_tok is not None else None
        target = self.resolver.ref(target_tok) if target_tok is not None else None
        mod, source_tok = modality(verb, lex)
        future = any(c.dep_ == "aux" and c.lower_ in ("will", "shall", "'ll") for c in verb.children)
        day, day_text = self.date_of(verb, future)
        location = None
        for m in self.places.get(verb.i, ()):
            if (actor and actor.start == m.start) or (target and target.start == m.start):
                continue
            location = Ref(m.start, m.end, m.entity)
            break
        k, sentence = self.sentence(verb.i)
        trig_text = self.text[verb.idx:trig_end.idx + len(trig_end.text)]
        event = Event(
            type=ptype, trigger=Trigger(text=trig_text, lemma=phrase or lemma, start=verb.idx,
                                        end=trig_end.idx + len(trig_end.text)),
            actor=self.span(actor), target=self.span(target), location=self.span(location),
            date=day, date_text=day_text, negated=negated(verb), modality=mod, sentence=sentence,
            source=self.span(self.resolver.ref(source_tok)) if source_tok is not None else None)
        return k, event

    def noun_event(self, noun: Token) -> tuple[int, Event] | None:
        ptype = self.lex.noun_type(noun.lemma_.lower()) or self.lex.noun_type(noun.lower_)
        if ptype is None:
            return None
        actor_tok = None
        for c in noun.lefts:
            if c.dep_ in _NOMINAL_ACTOR and (self.resolver.entity_of(c) >= 0 or c.dep_ == "poss"):
                actor_tok = c
        by = _prep_object(noun, ("by",))
        actor_tok = by if by is not None else actor_tok
        target_tok = _prep_object(noun, _NOMINAL_TARGET_PREPS)
        if actor_tok is None and target_tok is None:
            return None
        actor = self.resolver.ref(actor_tok) if actor_tok is not None else None
        target = self.resolver.ref(target_tok) if target_tok is not None else None
        head = self.clause_of[noun.i]
        mod = modality(self.doc[head], self.lex)[0] if head >= 0 else "asserted"
        k, sentence = self.sentence(noun.i)
        return k, Event(type=ptype, trigger=Trigger(text=noun.text, lemma=noun.lemma_.lower(), start=noun.idx,
                                                    end=noun.idx + len(noun.text)),
                        actor=self.span(actor), target=self.span(target), modality=mod, sentence=sentence)

    def announced_dates(self, found: list[tuple[int, int, Event]]) -> None:
        """"This was announced on Friday": the date goes to the undated events of the sentence before."""
        for head, (dtext, _) in self.dates.items():
            verb = self.doc[head]
            subj = _child(verb, "nsubjpass", "nsubj")
            if (subj is None or subj.lower_ not in _DEMONSTRATIVE or verb.lemma_.lower() not in self.lex.reporting
                    and verb.lemma_.lower() != "announce"):
                continue
            day = normalize_date(dtext, self.published)
            k = self.sentence(head)[0]
            for sk, _, ev in found:
                if sk == k - 1 and ev.date is None:
                    ev.date, ev.date_text = day, dtext


def find_events(doc: Doc, mentions: list[RawMention], entities: list[dict], published: date | None = None,
                keep_all: bool = False, lexicon: Lexicon | None = None) -> list[Event]:
    """Events of one Doc, in text order (see the module docstring)."""
    b = _Builder(doc, mentions, entities, published, lexicon or default_lexicon())
    found: list[tuple[int, int, Event]] = []
    for tok in doc:
        if _is_trigger(tok):
            got = b.verb_event(tok)
        elif tok.pos_ == "NOUN":
            got = b.noun_event(tok)
        else:
            continue
        if got is not None:
            found.append((got[0], tok.i, got[1]))
    b.announced_dates(found)
    out = []
    for _, _, ev in found:
        if keep_all or (ev.actor and ev.actor.entity) or (ev.target and ev.target.entity):
            out.append(ev)
    return out
