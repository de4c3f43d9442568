"""Clause events (one per verb with an action) and nominal events ("a Russian attack on X").

For each clause: actor (subject, agent of a passive, the controller of an infinitive, the subject
shared by coordinated verbs), action (trigger lemma with its particle or light-verb object: "take
control"), target (object, passive subject, or the object of to/against/on/with...), location (a
place named in the clause), date (a date expression in the clause, normalised against publication),
negation, modality and its source, and the sentence. Types and their families come from lexicon.json.

A reporting verb ("said", "told") is never an event of its own: the clauses under it are
``reported`` with its subject as their source, and when none of them is a typed event it makes one
``STATEMENT`` event (the speaker as actor, the addressee as target, the words as ``quote``).
An unnamed actor or target ("police", "the company") carries the sector of its head noun.

An action with neither actor nor target ("following", "including") is never an event; by default only
events whose actor or target refers to a named entity or an agent with a sector are kept.
All work is linear in the number of tokens.
"""

from __future__ import annotations

import bisect
from datetime import date

from spacy.attrs import DEP, HEAD, POS
from spacy.symbols import NOUN, VERB
from spacy.tokens import Doc, Token

from pipeline.extract.coref import Ref, Resolver
from pipeline.extract.dates import normalize_date
from pipeline.extract.entities import EntityState, RawMention, dateline_region, doc_text, sentences
from pipeline.extract.lexicon import OTHER, STATEMENT, Lexicon, default_lexicon
from pipeline.extract.modality import Modality, modality, negated
from pipeline.extract.readings import best_of, complement, doc_domains, habitual, own_tokens
from pipeline.extract.senses import agent_noun, no_happening
from pipeline.records import Event, Span, Trigger

_RELATIVE = frozenset({"who", "that", "which", "whom"})
_PERSONAL = frozenset({"he", "she"})
_PARTY_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
_ORG_SECTORS = frozenset({"business", "sport", "media"})
_AMOUNTS = frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
_TARGET_PREPS = ("against", "on", "to", "with", "toward", "towards", "over")
_NOT_ARGUMENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY", "QUANTITY"})
_QUANTITY_HEADS = frozenset({"number", "group", "dozen", "dozens", "hundreds", "thousands", "millions", "lot",
                             "lots", "majority", "series", "couple", "pair", "handful", "member", "members"})
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


_NOT_TRIGGER_DEPS = ("aux", "auxpass", "amod", "compound")


def _token_arrays(doc: Doc) -> tuple[list[int], list[int]]:
    arr = doc.to_array([POS, DEP])
    return arr[:, 0].tolist(), arr[:, 1].tolist()


def _is_trigger(tok: Token) -> bool:
    return (tok.pos_ == "VERB" and tok.dep_ not in ("aux", "auxpass", "amod", "compound")
            and len(tok.text) > 1 and tok.text[0].isalpha())


def _passive(verb: Token) -> bool:
    """A passive clause, also a headline's "X fired by Y" (a participle with a "by" agent)."""
    return any(c.dep_ in ("nsubjpass", "auxpass", "agent") for c in verb.children)


def _passive_like(verb: Token) -> bool:
    """Passive, a passive participle ("priests kidnapped"), or coordinated with a passive ("flown and held")."""
    return _passive(verb) or (verb.tag_ == "VBN" and (
        verb.dep_ == "acl" or (verb.dep_ == "conj" and _passive(verb.head) and _child(verb, "aux") is None)))


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
        if found is None and verb.dep_ == "acl" and verb.tag_ == "VBG":  # "activists calling for"
            found = verb.head
        if found is None and _passive_like(verb):
            pass  # an agentless passive has no actor, whatever the clause around it
        elif found is None and depth < 6 and verb.head.i != verb.i:
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
        if _passive(verb):
            subj = _child(verb, "nsubjpass", "nsubj")
            if subj is not None:
                return verb.head if subj.lower_ in _RELATIVE and verb.dep_ == "relcl" else subj
        elif verb.dep_ == "acl" and verb.tag_ == "VBN":  # "two priests kidnapped earlier"
            return verb.head
        if verb.dep_ == "conj" and verb.tag_ == "VBN" and _passive(verb.head) and _child(verb, "dobj") is None:
            return _Clauses.target(verb.head)  # "was flown to X and was held"
        for c in verb.children:
            if c.dep_ == "dobj" and (skip is None or c.i != skip.i):
                if c.lower_ in _RELATIVE and verb.dep_ == "relcl":
                    return verb.head
                return c
        dative = _child(verb, "dative")
        if dative is not None:
            obj = _child(dative, "pobj")
            return obj if obj is not None else dative
        return _prep_object(verb, _TARGET_PREPS)


def _prep_object(tok: Token, preps: tuple[str, ...] | frozenset[str]) -> Token | None:
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ in preps:
            obj = _child(c, "pobj")
            if obj is not None and obj.ent_type_ not in _NOT_ARGUMENTS:
                return obj
    return None


_SOURCE_NOUNS = frozenset({"information", "report", "reports", "source", "sources", "data", "statement",
                           "media", "footage", "intelligence", "estimate", "estimates", "figures"})


def _source_noun(tok: Token) -> Token:
    """"information from Russia" -> Russia: who a reported clause comes from."""
    if tok.lower_ in _SOURCE_NOUNS:
        inner = _prep_object(tok, ("from", "of", "by"))
        if inner is not None:
            return inner
    return tok


def _head_noun(tok: Token | None) -> Token | None:
    """"a number of records" -> records: the noun a quantity word counts."""
    if tok is not None and tok.lemma_.lower() in _QUANTITY_HEADS:
        inner = _prep_object(tok, ("of",))
        if inner is not None and tok.ent_type_ == "":
            return inner
    return tok


def _clause_heads(doc: Doc, triggers: list[bool]) -> list[int]:
    """For each token, the index of the nearest trigger verb above it (itself if it is one), or -1.

    Works on the integer head array (no Token objects): linear with path compression.
    """
    heads_rel = doc.to_array([HEAD]).astype("int64").ravel().tolist()
    n = len(doc)
    out = [-2] * n
    for i in range(n):
        path, cur = [], i
        while out[cur] == -2:
            if triggers[cur]:
                out[cur] = cur
                break
            path.append(cur)
            nxt = cur + heads_rel[cur]
            if nxt == cur:
                out[cur] = -1
                break
            cur = nxt
        value = out[cur]
        for k in path:
            out[k] = value
    return out


class _Builder:
    def __init__(self, doc: Doc, mentions: list[RawMention], entities: list[EntityState], published: date | None,
                 lex: Lexicon):
        self.doc, self.entities, self.published, self.lex = doc, entities, published, lex
        self.text = doc_text(doc)
        self.resolver = Resolver(doc, mentions, entities, lex)
        self.clauses = _Clauses(lex)
        self.dateline = dateline_region(self.text)
        domains = sorted(doc_domains(doc, lex.domains))  # "sport": a match report, where "saved" is play
        self.no_event: frozenset[str] = frozenset().union(*(lex.domains[d].no_event for d in domains))
        self.retype: dict[str, str] = {k: v for d in domains for k, v in lex.domains[d].retype.items()}
        pos, dep = _token_arrays(doc)
        self.is_trigger = [False] * len(doc)
        self.nouns = []
        skip = {doc.vocab.strings[d] for d in _NOT_TRIGGER_DEPS}
        for i, (p, d) in enumerate(zip(pos, dep, strict=True)):  # integer arrays: no Token objects for most tokens
            if p == VERB and d not in skip:
                self.is_trigger[i] = _is_trigger(doc[i])
            elif p == NOUN:
                self.nouns.append(i)
        self.clause_of = _clause_heads(doc, self.is_trigger)
        self.sents = sentences(doc)
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
            if m.entity >= 0 and entities[m.entity].label in _PLACES and not m.dateline:
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
        ent = self.entities[ref.entity].name if ref.entity >= 0 else None
        return Span(text=self.text[ref.start:ref.end], start=ref.start, end=ref.end, entity=ent,
                    sector=ref.sector)  # "the Russian troops": Russia, military

    def date_of(self, verb: Token, future: bool) -> tuple[str | None, str | None]:
        cur, depth = verb, 0
        while True:
            found = self.dates.get(cur.i)
            if found:
                return normalize_date(found[0], self.published, future=future), found[0]
            if cur.dep_ != "conj" or depth > 4 or not _is_trigger(cur.head):
                return None, None
            cur, depth = cur.head, depth + 1

    def typing(self, verb: Token) -> tuple[str, str | None, Token]:
        """(type, matched phrase or None, last token of the trigger) of a verb, by its particle, its
        object ("cut jobs"), a preposition and its object ("file for bankruptcy") or a preposition."""
        lex = self.lex
        lemma = lex.repair_lemma(verb.lemma_.lower(), verb.lower_)
        prt, obj = _child(verb, "prt"), _child(verb, "dobj")
        ptype, phrase, trig_end = None, None, verb
        if prt is not None:
            ptype, phrase = lex.verb_type(lemma, prt.lower_)
            phrase = phrase or f"{lemma} {prt.lower_}"
            trig_end = prt if prt.i == verb.i + 1 else verb
        if obj is not None and (ptype is None or ptype == OTHER):
            t, p = lex.verb_type(lemma, obj.lemma_.lower())
            if p is None:
                t, p = lex.verb_type(lemma, obj.lower_)
            if p is not None:
                ptype, phrase = t, p
                trig_end = obj if obj.i == trig_end.i + 1 else trig_end
        if phrase is None and best_of(verb):  # "won best actress", "was named best film"
            t, p = lex.verb_type(lemma, "best")
            if p is not None:
                ptype, phrase = t, p
        if phrase is None:
            ptype, phrase, trig_end = self._prep_typing(verb, lemma, ptype, trig_end)
        if ptype is None or (ptype == OTHER and phrase is None):
            ptype, _ = lex.verb_type(lemma)
        return ptype, phrase, trig_end

    def _prep_typing(self, verb: Token, lemma: str, ptype: str | None, trig_end: Token
                     ) -> tuple[str | None, str | None, Token]:
        lex = self.lex
        for c in verb.children:
            if c.dep_ != "prep":
                continue
            pobj = _child(c, "pobj")
            if pobj is not None and pobj.ent_type_ in _NOT_ARGUMENTS:
                continue  # "fired on Monday" is not "fire on"
            if pobj is not None:  # "file for bankruptcy"
                triple = f"{lemma} {c.lower_} {pobj.lemma_.lower()}"
                if triple in lex.phrases:
                    return lex.phrases[triple], triple, pobj if pobj.i == c.i + 1 == verb.i + 2 else verb
            pair = f"{lemma} {c.lower_}"
            if pair in lex.verbs:  # a prepositional verb listed as such: "call for", "work with"
                return lex.verbs[pair], pair, c if c.i == verb.i + 1 else trig_end
        return ptype, None, trig_end

    def is_speech(self, verb: Token) -> bool:
        """A reporting verb with no typed phrase ("said", not "reported a profit"): never an event itself."""
        lemma = self.lex.repair_lemma(verb.lemma_.lower(), verb.lower_)
        ptype, phrase, _ = self.typing(verb)
        return (lemma in self.lex.reporting or phrase in self.lex.reporting) and ptype == OTHER

    def arguments(self, verb: Token, phrase: str | None) -> tuple[Ref | None, Ref | None]:
        """The actor and target of a verb, resolved; a phrase's object gives way to its "of" object."""
        obj = _child(verb, "dobj")
        actor_tok = self.clauses.actor(verb)
        phrase_obj = None
        if phrase is not None and obj is not None and (phrase.endswith(obj.lemma_.lower())
                                                        or phrase.endswith(obj.lower_)):
            phrase_obj = obj
        if phrase_obj is not None:  # "take control of X": X is the target
            target_tok = _prep_object(phrase_obj, ("of", "over"))
            if target_tok is None:  # "deliver aid to X"; else the object itself ("sign a pact")
                target_tok = self.clauses.target(verb, skip=phrase_obj) or phrase_obj
        else:
            target_tok = self.clauses.target(verb)
        actor_tok, target_tok = self._not_dateline(_head_noun(actor_tok)), self._not_dateline(_head_noun(target_tok))
        actor = self.resolver.ref(actor_tok) if actor_tok is not None else None
        if actor_tok is not None and actor_tok.lower_ in _PERSONAL and verb.dep_ == "relcl":
            actor = self._relative_pronoun_actor(verb) or actor
        target = self.resolver.ref(target_tok) if target_tok is not None else None
        return actor, target

    def _not_dateline(self, tok: Token | None) -> Token | None:
        """No argument from the dateline ("SAN JOSE, Costa Rica –"): it says where the news was filed."""
        if tok is None or self.dateline is None or not self.dateline[0] <= tok.idx < self.dateline[1]:
            return tok
        return None

    def _relative_pronoun_actor(self, verb: Token) -> Ref | None:
        """"... not to annihilate the group and its leader, whom he would have crushed": "he" is the
        actor of the clause whose object the relative clause describes, when that is a person."""
        noun = verb.head
        while noun.dep_ == "conj" and noun.head.i != noun.i:
            noun = noun.head
        if noun.dep_ != "dobj" or noun.head.pos_ not in ("VERB", "AUX"):
            return None
        outer = self.clauses.actor(noun.head)
        ref = self.resolver.ref(outer) if outer is not None else None
        if ref is not None and ref.entity >= 0 and self.entities[ref.entity].label == "PERSON":
            return ref
        return None

    def verb_event(self, verb: Token) -> tuple[int, Event, Token | None] | None:
        lex = self.lex
        if self.resolver.tok2m[verb.i] >= 0:  # a word of a name: "Committee to Protect Journalists"
            return None
        ptype, phrase, trig_end = self.typing(verb)
        lemma = lex.repair_lemma(verb.lemma_.lower(), verb.lower_)
        if phrase is None and lemma in lex.ignore:
            return None
        if phrase is not None and phrase in lex.ignore:  # "spend time", "take place"
            return None
        for word in (_child(verb, "dobj"), _child(verb, "xcomp")):  # "paid tribute", "declined to comment"
            if word is not None and f"{lemma} {word.lemma_.lower()}" in lex.ignore:
                return None
        if phrase is None and lemma in self.no_event:  # "Kenny saved", "his strike" in a match report
            return None
        if ptype == OTHER and lex.no_happening and no_happening(phrase or lemma, lex.no_happening):
            return None  # a verb the lexicon does not type whose commonest sense is a state: "dominate", "listen"
        actor, target = self.arguments(verb, phrase)
        if target is not None and target.entity >= 0 and self.entities[target.entity].label == "ORG":
            ptype = (lex.org_target or {}).get(ptype, ptype)  # buying a company is a merger
        listed = phrase is not None and (phrase in lex.phrases or phrase in lex.verbs)  # not "leave out" as "leave"
        ptype = self.constrained(ptype, lemma, actor, None if listed else target, verb,
                                 has_target=target is not None or listed)
        ptype = self.retype.get(ptype, ptype)  # in a review, "the band played" is a performance
        mod = modality(verb, lex)
        future = any(c.dep_ == "aux" and c.lower_ in ("will", "shall", "'ll") for c in verb.children)
        day, day_text = self.date_of(verb, future)
        k, sentence = self.sentence(verb.i)
        if lex.habitual_present and day_text is None and k > 0 and mod.mode != "hypothetical" and habitual(verb):
            return None  # "BT Retail, which sells net services": a state of affairs (a headline may be present)
        location = None
        for m in self.places.get(verb.i, ()):
            if (actor and actor.start == m.start) or (target and target.start == m.start):
                continue
            location = Ref(m.start, m.end, m.entity)
            break
        end = trig_end.idx + len(trig_end.text)
        event = Event(
            type=ptype, trigger=Trigger(text=self.text[verb.idx:end], lemma=phrase or lemma, start=verb.idx, end=end),
            actor=self.span(actor), target=self.span(target), location=self.span(location),
            date=day, date_text=day_text, negated=negated(verb), modality=mod.mode, sentence=sentence,
            source=self.source(mod), family=lex.family(ptype), plover=lex.plover(ptype))
        return k, event, mod.reporter

    def constrained(self, ptype: str, lemma: str, actor: Ref | None, target: Ref | None, verb: Token,
                    has_target: bool | None = None) -> str:
        """The type, or what it becomes when its arguments are not what the lexicon's constraints ask:
        "warned about the risk" is no THREATEN, "released a report" no RELEASE, "grew stronger" no PRICE_CHANGE,
        "asked whether" (no one asked to do anything) no REQUEST."""
        rules = self.lex.constraints or {}
        rule = rules.get(f"{ptype}:{lemma}") or rules.get(ptype)
        if not rule:
            return ptype
        ok = True
        for role, arg in (("actor", actor), ("target", target)):
            if ok and role in rule and arg is not None:
                ok = self._kind(arg, rule[role])
        if ok and rule.get("figure"):
            ok = self._figure(verb, actor, target)
        if ok and "need" in rule:
            present = {"actor": actor is not None, "target": target is not None if has_target is None else has_target,
                       "object": verb.pos_ != "NOUN" and _child(verb, "dobj") is not None,
                       "complement": verb.pos_ != "NOUN" and complement(verb)}
            ok = any(present[n] for n in rule["need"])
        return ptype if ok else rule.get("else", OTHER)

    def _kind(self, ref: Ref, kind: str) -> bool:
        label = self.entities[ref.entity].label if ref.entity >= 0 else None
        head = self.text[ref.start:ref.end].lower().split()[-1:]
        # an unnamed noun with no sector: WordNet's commonest sense says whether it is someone ("tycoons",
        # "activist": person; "committee": group) or something ("firework", "pressures")
        agent = agent_noun(head[0]) if label is None and ref.sector is None and head else None
        if kind == "org":
            return label == "ORG" or (label is None and ref.sector in _ORG_SECTORS)
        if kind == "person":
            return label == "PERSON" or agent == "person" or (
                label is None and ref.sector is not None and ref.sector not in _ORG_SECTORS)
        if kind == "thing":  # no one: "signed the charter", not "signed Graham Stuart"
            return not self._kind(ref, "person")
        if kind == "place":  # "returned to Madrid", "left the house"; not "returned to form"
            return label in _PLACES or (label is None and bool(set(head) & self.lex.place_nouns))
        if kind == "who":  # someone, not somewhere: "visited Tomas Berg", not "visited a school"
            return label in ("PERSON", "ORG", "NORP") or agent is not None or (
                label is None and ref.sector is not None and not set(head) & self.lex.place_nouns)
        return label in _PARTY_LABELS or agent is not None or (label is None and ref.sector is not None)  # a party

    def _figure(self, verb: Token, actor: Ref | None, target: Ref | None) -> bool:
        """Its subject or object is a figure ("interest rates", not "sales targets"), or its own clause has
        an amount."""
        for ref in (actor, target):
            head = self.text[ref.start:ref.end].lower().split()[-1:] if ref is not None else []
            if set(head) & self.lex.figure_nouns:
                return True
        return any(t.ent_type_ in _AMOUNTS for t in own_tokens(verb))

    def source(self, mod: Modality) -> Span | None:
        return self.span(self.resolver.ref(_source_noun(mod.source))) if mod.source is not None else None

    def statement(self, verb: Token) -> tuple[int, Event] | None:
        """A reporting verb whose words report no typed action: who said what, as one STATEMENT event."""
        speaker = self._not_dateline(self.clauses.actor(verb))
        if speaker is None:
            return None
        addressee = _child(verb, "dobj", "dative") if verb.lemma_.lower() == "tell" else None
        if addressee is not None and addressee.pos_ in ("VERB", "AUX"):
            addressee = None
        addressee = addressee if addressee is not None else _prep_object(verb, ("to",))
        k, sentence = self.sentence(verb.i)
        quote = _quote(verb)
        end = verb.idx + len(verb.text)
        return k, Event(
            type=STATEMENT, trigger=Trigger(text=verb.text, lemma=verb.lemma_.lower(), start=verb.idx, end=end),
            actor=self.span(self.resolver.ref(speaker)),
            target=self.span(self.resolver.ref(addressee)) if addressee is not None else None,
            negated=negated(verb), sentence=sentence, family=self.lex.family(STATEMENT),
            quote=Span(text=self.text[quote[0]:quote[1]], start=quote[0], end=quote[1]) if quote else None)

    def noun_event(self, noun: Token) -> tuple[int, Event, Token | None] | None:
        lemma = noun.lemma_.lower()
        modifier = next((c.lower_ for c in noun.lefts if c.dep_ == "compound"), None)  # "job cuts"
        ptype = self.lex.noun_type(lemma, modifier) or self.lex.noun_type(noun.lower_, modifier)
        if ptype is None or lemma in self.no_event:
            return None
        actor_tok = None
        for c in noun.lefts:
            if c.dep_ in _NOMINAL_ACTOR and (self.resolver.entity_of(c) >= 0 or c.dep_ == "poss"):
                actor_tok = c
        by = _prep_object(noun, ("by",))
        actor_tok = self._not_dateline(by if by is not None else actor_tok)
        target_tok = self._not_dateline(_prep_object(noun, _NOMINAL_TARGET_PREPS))
        if actor_tok is None and target_tok is None:
            return None
        actor = self.resolver.ref(actor_tok) if actor_tok is not None else None
        target = self.resolver.ref(target_tok) if target_tok is not None else None
        ptype = self.constrained(ptype, lemma, actor, target, noun)  # "Xbox sales" are no sale of anything
        ptype = self.retype.get(ptype, ptype)
        head = self.clause_of[noun.i]
        mod = modality(self.doc[head], self.lex) if head >= 0 else Modality("asserted")
        reporter = mod.reporter
        if head >= 0 and self.is_speech(self.doc[head]):  # "X announced a takeover of Y"
            reporter = self.doc[head]
            mod = Modality("reported", _child(reporter, "nsubj"), reporter)
        k, sentence = self.sentence(noun.i)
        return k, Event(type=ptype, trigger=Trigger(text=noun.text, lemma=lemma, start=noun.idx,
                                                    end=noun.idx + len(noun.text)),
                        actor=self.span(actor), target=self.span(target), modality=mod.mode, sentence=sentence,
                        source=self.source(mod), family=self.lex.family(ptype), plover=self.lex.plover(ptype)), reporter

    def announced_dates(self, found: list[tuple[int, int, Event]]) -> None:
        """"This was announced on Friday": the date goes to the undated events of the sentence before."""
        for head, (dtext, _) in self.dates.items():
            verb = self.doc[head]
            subj = _child(verb, "nsubjpass", "nsubj")
            if (subj is None or subj.lower_ not in _DEMONSTRATIVE or (verb.lemma_.lower() not in self.lex.reporting
                    and verb.lemma_.lower() != "announce")):
                continue
            day = normalize_date(dtext, self.published)
            k = self.sentence(head)[0]
            for sk, _, ev in found:
                if sk == k - 1 and ev.date is None:
                    ev.date, ev.date_text = day, dtext


def _quote(verb: Token) -> tuple[int, int] | None:
    """Char span of what a reporting verb reports: its complement clause, or the clause it was
    attached to ("'We are happy,' he said"), without the quotation marks and commas around it."""
    comp = _child(verb, "ccomp", "parataxis", "xcomp")
    doc = verb.doc
    if comp is not None:
        s, e = comp.left_edge.i, comp.right_edge.i + 1
    elif verb.dep_ in ("ccomp", "parataxis") and verb.head.i != verb.i:
        s, e = verb.head.left_edge.i, verb.left_edge.i
    else:
        return None
    while s < e and (doc[s].is_punct or doc[s].is_space or doc[s].is_quote):
        s += 1
    while e > s and (doc[e - 1].is_punct or doc[e - 1].is_space or doc[e - 1].is_quote):
        e -= 1
    return (doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text)) if e > s else None


def _kept(ev: Event, keep: str) -> bool:
    """``keep``: "all" (any participant), "agents" (a named entity or an agent with a sector: the
    default) or "named" (a named entity only)."""
    args = [a for a in (ev.actor, ev.target) if a is not None]
    if not args:
        return False  # "following", "including": an action with no participant tells nothing
    if keep == "all":
        return True
    return any(a.entity or (keep == "agents" and a.sector) for a in args)


def find_events(doc: Doc, mentions: list[RawMention], entities: list[EntityState], published: date | None = None,
                keep_all: bool = False, lexicon: Lexicon | None = None, named_only: bool = False
                ) -> tuple[list[Event], dict[int, list[str]]]:
    """Events of one Doc, in text order (see the module docstring), and the roles read on the way
    (entity index -> "head of the mercenary group"...), for ``assign_roles``. Changes nothing.

    Kept: events with a participant that is a named entity or an agent with a sector ("police");
    ``named_only``: a named entity only; ``keep_all``: any participant.
    """
    keep = "all" if keep_all else "named" if named_only else "agents"
    b = _Builder(doc, mentions, entities, published, lexicon or default_lexicon())
    found: list[tuple[int, int, Event]] = []
    reporters: dict[int, int] = {}  # event token -> its reporting verb's token
    speech: list[Token] = []
    for i in sorted(set(b.nouns).union(k for k, t in enumerate(b.is_trigger) if t)):
        tok = doc[i]
        if b.is_trigger[i] and b.is_speech(tok):
            speech.append(tok)
            continue
        got = b.verb_event(tok) if b.is_trigger[i] else b.noun_event(tok)
        if got is not None:
            found.append((got[0], i, got[1]))
            if got[2] is not None:
                reporters[i] = got[2].i
    b.announced_dates(found)
    kept = [(i, ev) for _, i, ev in found if _kept(ev, keep)]
    told = {reporters[i] for i, ev in kept if i in reporters and ev.type != OTHER}
    for verb in speech:  # a statement that reports no typed action is one STATEMENT event
        st = b.statement(verb) if verb.i not in told else None
        if st is not None and _kept(st[1], keep):
            kept.append((verb.i, st[1]))
    kept.sort(key=lambda x: x[0])
    return [ev for _, ev in kept], b.resolver.found_roles
