"""Named-entity mentions: span cleanup, titles split off names, the dateline city, canonical names.

Pure functions over a spaCy Doc returning plain records. All offsets are character offsets into
``doc.text`` (the article body) and ``doc.text[m.start:m.end] == m.text`` always holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from spacy.tokens import Doc

from pipeline.names import is_honorific

DEFAULT_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})

# words that name an office or honorific in front of a name: split off as a role, never part of the name
TITLE_WORDS = frozenset({
    "president", "vice", "prime", "minister", "chancellor", "secretary", "general", "gen", "gen.", "lt",
    "lt.", "col", "col.", "colonel", "major", "maj", "maj.", "captain", "capt", "capt.", "sergeant",
    "sgt", "sgt.", "admiral", "adm", "adm.", "marshal", "field", "commander", "king", "queen", "prince",
    "princess", "emperor", "pope", "cardinal", "bishop", "archbishop", "rev", "rev.", "reverend",
    "sheikh", "emir", "sultan", "ayatollah", "imam", "rabbi", "senator", "sen", "sen.", "rep", "rep.",
    "representative", "congressman", "congresswoman", "governor", "gov", "gov.", "mayor", "judge",
    "justice", "associate", "chief", "chairman", "chairwoman", "chair", "ceo", "cfo", "executive",
    "director", "head", "leader", "ambassador", "envoy", "spokesman", "spokeswoman", "spokesperson",
    "coach", "manager", "striker", "midfielder", "defender", "goalkeeper", "deputy", "foreign",
    "defence", "defense", "interior", "finance", "opposition", "former", "late", "acting", "party",
    "state", "premier", "dictator", "ruler", "founder", "boss", "presidential", "candidate", "officer",
    "inspector", "detective", "agent", "professor", "prof", "prof.", "minister-president",
})
# a capitalised one of these right before a name makes it a PERSON
PERSON_CUES = frozenset({
    "president", "chancellor", "minister", "premier", "king", "queen", "prince", "princess", "pope",
    "senator", "sen", "sen.", "governor", "gov", "gov.", "mayor", "general", "gen", "gen.", "colonel",
    "col", "col.", "lt", "lt.", "sergeant", "sgt", "sgt.", "captain", "capt", "capt.", "ayatollah",
    "sheikh", "judge", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "sir", "dame", "lady",
    "lord",
})
_RELABEL = frozenset({"ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "WORK_OF_ART"})
_DETERMINERS = frozenset({"the", "a", "an"})
_POSSESSIVE = frozenset({"'s", "’s", "'", "’", "s'", "s’"})
_PLACE = frozenset({"GPE", "LOC", "FAC"})
_TRIM_TAIL = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})
_DASHES = frozenset({"-", "–", "—", "--"})
_DATELINE = re.compile(
    r"(?m)^[ \t]*(?P<city>[A-Z][A-Z.'’\-]+(?:[ \t]+[A-Z][A-Z.'’\-]+){0,3})"
    r"(?:,[ \t]*[A-Z][\w.'’ ]{1,30}?)?[ \t]*(?:\([^()\n]{1,30}\)[ \t]*(?:[–—-]|--)|[–—]|--)")


_TEXT_KEY = "newsstream.text"


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once per Doc (spaCy joins every token on each access)."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text


def sentences(doc: Doc) -> list[tuple[int, int, int, int]]:
    """(token start, token end, char start, char end) of each sentence; the whole text when unparsed."""
    if len(doc) and not (doc.has_annotation("SENT_START") or doc.has_annotation("DEP")):
        return [(0, len(doc), 0, len(doc_text(doc)))]
    return [(s.start, s.end, s.start_char, s.end_char) for s in doc.sents]


@dataclass
class RawMention:
    """A cleaned mention while the rules work on it (token span [ts, te), char span [start, end))."""

    ts: int
    te: int
    start: int
    end: int
    label: str
    role: str | None = None
    dateline: bool = False
    entity: int = -1


@dataclass
class EntityState:
    """One entity of an article while the rules work on it: its canonical name, label, mentions
    (in text order), roles ("Belarusian President") and comparison key (``name_key``)."""

    name: str
    label: str
    mentions: list[RawMention] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    key: str = ""


def mentions_of(entities: list[EntityState]) -> list[RawMention]:
    """Every mention of the entities, in text order."""
    return sorted((m for e in entities for m in e.mentions), key=lambda m: (m.start, m.end))


def assign_roles(entities: list[EntityState], found: dict[int, list[str]]) -> list[EntityState]:
    """New entities with the roles ``found`` (entity index -> roles) added after their own, once each."""
    if not found:
        return entities
    return [replace(e, roles=list(dict.fromkeys([*e.roles, *found.get(i, ())]))) for i, e in enumerate(entities)]


def _split_pieces(doc: Doc, ts: int, te: int) -> list[tuple[int, int]]:
    """Cut a token span at whitespace/newline tokens and at unbalanced brackets."""
    pieces, cur = [], ts
    for i in range(ts, te):
        if doc[i].is_space or "\n" in doc[i].text:
            if cur < i:
                pieces.append((cur, i))
            cur = i + 1
    if cur < te:
        pieces.append((cur, te))
    out = []
    for a, b in pieces:
        depth, cut = 0, None
        for i in range(a, b):
            t = doc[i].text
            if t in "([{":
                depth += 1
                if cut is None:
                    cut = i
            elif t in ")]}":
                if depth == 0:
                    cut = i
                    break
                depth -= 1
                if depth == 0:
                    cut = None
        if cut is not None:  # keep the name before the bracket ("Natalya Shikolen ( Belarus")
            if a < cut:
                out.append((a, cut))
        else:
            out.append((a, b))
    return out


def _strip(doc: Doc, a: int, b: int) -> tuple[int, int]:
    """Drop leading determiners/punctuation and trailing possessives/punctuation."""
    while a < b and (doc[a].lower_ in _DETERMINERS or (doc[a].is_punct and doc[a].text not in "([")):
        a += 1
    while b > a and (doc[b - 1].lower_ in _POSSESSIVE
                     or (doc[b - 1].is_punct and doc[b - 1].text not in ")]")):
        b -= 1
    return a, b


def _is_title(tok_lower: str) -> bool:
    return tok_lower in TITLE_WORDS or is_honorific(tok_lower)


def _role_before(doc: Doc, a: int, office: bool = False) -> tuple[int, bool]:
    """Index where a title chain ending just before token ``a`` starts, and whether it holds an office."""
    i = a
    while i > 0:
        t = doc[i - 1]
        low = t.lower_
        if low in TITLE_WORDS and (t.is_title or t.is_upper or low in {"former", "late", "acting"}
                                   or t.is_lower):
            office = office or low not in {"former", "late", "acting", "associate", "state"}
            i -= 1
        elif is_honorific(low) or (office and (t.ent_type_ in {"NORP", "GPE", "ORG"}
                                                or (t.pos_ in {"ADJ", "PROPN"} and t.is_title))):
            i -= 1
        else:
            break
    return i, office


def _person_title_split(doc: Doc, a: int, b: int) -> tuple[int, str | None]:
    """Move titles at the start of a PERSON span out of the name; return new start and the role text."""
    i = a
    while i < b - 1 and (_is_title(doc[i].lower_) or (doc[i].ent_type_ == "NORP" and i + 1 < b - 1
                                                       and _is_title(doc[i + 1].lower_))):
        i += 1
    # the role also takes title words and nationalities just before the span ("Belarusian President X")
    inside = any(doc[k].lower_ in TITLE_WORDS for k in range(a, i))
    left, office = _role_before(doc, a, office=inside)
    start = left if left < a else a
    has_office = office or any(doc[k].lower_ in TITLE_WORDS for k in range(a, i))
    if start < i and has_office:
        words = [doc[k] for k in range(start, i) if not is_honorific(doc[k].lower_)]
        role = " ".join(w.text for w in words).strip() or None
        return i, role
    return i, None


def _has_name_char(doc: Doc, a: int, b: int) -> bool:
    return any(doc[k].text[:1].isupper() or doc[k].text[:1].isdigit() for k in range(a, b))


def find_dateline(text: str, dateline: str | None = None) -> tuple[int, int] | None:
    """Character span of the dateline city ("MINSK – ..."), at the start of a line in the first paragraphs."""
    head = text[:3000]
    if dateline:
        m = re.search(r"(?m)^[ \t]*(" + re.escape(dateline.strip()) + r")\b", head)
        if m:
            return m.start(1), m.end(1)
    m = _DATELINE.search(head)
    if m and any(c.isalpha() for c in m.group("city")) and len(m.group("city")) > 1:
        return m.start("city"), m.end("city")
    return None


def dateline_region(text: str) -> tuple[int, int] | None:
    """Char span of the whole dateline ("SAN JOSE, Costa Rica (AP) –"), when the text opens a line with one."""
    m = _DATELINE.search(text[:3000])
    return m.span() if m and len(m.group("city")) > 1 else None


def find_mentions(doc: Doc, labels: Iterable[str] = DEFAULT_LABELS, dateline: str | None = None
                  ) -> list[RawMention]:
    """Cleaned mentions of the named labels, plus the dateline city, in text order."""
    labels = frozenset(labels)
    out: list[RawMention] = []
    for ent in doc.ents:
        if ent.label_ not in labels:
            continue
        pieces = _split_pieces(doc, ent.start, ent.end)
        # an inner possessive ("Belarus’ Independence Day") ends a name: keep what follows it; not in
        # organisations and people named with one ("McDonald's Corp", "Lloyd's of London")
        split = []
        owned = _POSSESSIVE if ent.label_ not in ("ORG", "PERSON") else frozenset({"'", "’"})
        for a, b in pieces:
            cut = next((k for k in range(a + 1, b - 1) if doc[k].lower_ in owned), None)
            split.append((cut + 1, b) if cut is not None else (a, b))
        for a, b in split:
            a, b = _strip(doc, a, b)
            if ent.label_ in _TRIM_TAIL:  # "Durham 114", "Interfax news agency"
                while b > a + 1 and (doc[b - 1].like_num or doc[b - 1].is_lower
                                     or any(c.isdigit() for c in doc[b - 1].text)):
                    b -= 1
                a, b = _strip(doc, a, b)
            if any(doc[k].text in _DASHES and doc[k - 1].whitespace_ for k in range(a + 1, b)):
                continue  # "Lithuania - Danius Gleveckas": two names; propagation finds known ones
            role, label = None, ent.label_
            if label in _RELABEL and a > 0 and doc[a - 1].lower_ in PERSON_CUES and not doc[a - 1].is_lower:
                label = "PERSON"  # "Chancellor Olaf Scholz", "Mr Smith": whatever the model said
            if label == "PERSON" and b > a:
                a, role = _person_title_split(doc, a, b)
            if b <= a or not _has_name_char(doc, a, b):
                continue
            if not any(c.isupper() for k in range(a, b) for c in doc[k].text):
                continue
            if b == a + 1 and doc[a].text in NOT_ACRONYMS:  # "10 GMT"
                continue
            start, end = doc[a].idx, doc[b - 1].idx + len(doc[b - 1].text)
            out.append(RawMention(a, b, start, end, label, role))
    span = find_dateline(doc_text(doc), dateline)
    if span is not None and "GPE" in labels:
        cs = doc.char_span(span[0], span[1], alignment_mode="expand")
        if cs is not None:
            out = [m for m in out if m.end <= span[0] or m.start >= span[1]]
            out.append(RawMention(cs.start, cs.end, span[0], span[1], "GPE", dateline=True))
            out.sort(key=lambda m: m.start)
    return out


def name_key(text: str) -> str:
    """Comparison key of a name: case-folded, straight apostrophes, single spaces."""
    return " ".join(text.replace("’", "'").casefold().split())


def _contains_at(long: list[str], short: list[str]) -> list[int]:
    n = len(short)
    return [i for i in range(len(long) - n + 1) if long[i:i + n] == short]


def _may_shorten(short_label: str, long_label: str, positions: list[int], n_short: int, n_long: int) -> bool:
    """Can a name of ``short_label`` be a short form of a longer name of ``long_label`` at these word positions?

    Same label, places among places, or PERSON/ORG confusions; a country never shortens an
    organisation's name ("U.S." is not "U.S. Treasury").
    """
    same = short_label == long_label or {short_label, long_label} <= _PLACE
    surname = long_label == "PERSON" and n_long >= 2 and n_long - n_short in positions
    if not same and not {short_label, long_label} <= {"PERSON", "ORG"} and not surname:
        return False
    if long_label == "PERSON":  # surname or first name
        return any(p == 0 or p + n_short == n_long for p in positions)
    return 0 in positions  # "Wagner" -> "Wagner Group", never "Russia" -> "Bank of Russia"


def _display(forms: Counter[str], dateline: bool) -> str:
    mixed = [f for f, _ in forms.most_common() if not f.isupper()]
    if mixed:
        best = max(mixed, key=lambda f: (forms[f], sum(c.isupper() for c in f)))
        return best
    form = forms.most_common(1)[0][0]
    return form.title() if dateline or len(form) > 4 else form


def canonicalize(doc: Doc, mentions: list[RawMention]) -> list[EntityState]:
    """Group mentions into new entities (each holds copies of its mentions, ``entity`` set); the input is
    left as it was.

    A surname or a leading short form resolves to the fullest compatible name in the article; an
    entity's label is the majority label of its mentions (ties: the fullest name's label).
    """
    text = doc_text(doc)
    labels: dict[str, Counter[str]] = {}
    for m in mentions:
        labels.setdefault(name_key(text[m.start:m.end]), Counter())[m.label] += 1
    majority = {k: c.most_common(1)[0][0] for k, c in labels.items()}
    root = _acronym_roots(text, mentions, _roots(majority))
    groups: dict[str, list[RawMention]] = {}
    for m in mentions:
        groups.setdefault(root[name_key(text[m.start:m.end])], []).append(m)
    return [_entity(text, r, ms, majority[r], idx) for idx, (r, ms) in enumerate(groups.items())]


def _roots(majority: dict[str, str]) -> dict[str, str]:
    """Each name key -> the key of the fullest compatible name it shortens (itself when none or ambiguous)."""
    root: dict[str, str] = {}
    by_word: dict[str, list[str]] = {}
    for k in sorted(majority, key=lambda k: (-len(k.split()), -len(k))):
        words = k.split()
        cands = {}
        for long in {lk for w in set(words) for lk in by_word.get(w, ())}:
            lw = long.split()
            if len(lw) <= len(words):
                continue
            pos = _contains_at(lw, words)
            if pos and _may_shorten(majority[k], majority[long], pos, len(words), len(lw)):
                cands[root[long]] = majority[long]
        if len(cands) > 1:  # ambiguous: prefer the roots with the same label
            same = {r: lab for r, lab in cands.items() if lab == majority[k]}
            cands = same if len(same) == 1 else {}
        root[k] = next(iter(cands)) if len(cands) == 1 else k
        for w in set(words):
            by_word.setdefault(w, []).append(k)
    return root


def _acronym_roots(text: str, mentions: list[RawMention], root: dict[str, str]) -> dict[str, str]:
    """"National Human Rights Commission (NHRC)": the bracketed acronym joins the name's root (a new dict)."""
    root = dict(root)
    prev = None
    for m in mentions:
        if (prev is not None and prev.end == m.start - 2 and text[m.start - 2:m.start] == " ("
                and text[m.end:m.end + 1] == ")" and text[m.start:m.end].isupper()
                and text[m.start] == text[prev.start]):
            short, long = name_key(text[m.start:m.end]), name_key(text[prev.start:prev.end])
            if root[short] == short and root[long] != short:
                for k, r in root.items():
                    if r == short:
                        root[k] = root[long]
        prev = m
    return root


def _entity(text: str, key: str, ms: list[RawMention], majority: str, idx: int) -> EntityState:
    """One entity of the mentions grouped under ``key``: its label by weighted vote, its display name."""
    counts: dict[str, float] = {}
    for m in ms:  # the model reads names in capitals ("MOSCOW") badly: they count a third
        mtext = text[m.start:m.end]
        weight = 1.0 / 3 if mtext.isupper() and len(mtext) > 4 and not m.dateline else 1.0
        counts[m.label] = counts.get(m.label, 0.0) + weight
    top = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties keep first-seen order
    label = majority if len(top) > 1 and top[0][1] == top[1][1] else top[0][0]
    forms = Counter(text[m.start:m.end] for m in ms if name_key(text[m.start:m.end]) == key)
    roles = list(dict.fromkeys(m.role for m in ms if m.role))
    return EntityState(name=_display(forms, any(m.dateline for m in ms)), label=label,
                       mentions=[replace(m, entity=idx) for m in ms], roles=roles, key=key)


def propagate(doc: Doc, entities: list[EntityState]) -> None:
    """Add to ``entities`` the unrecognised occurrences of their names (capitalised, whole tokens).

    Changes ``entities`` in place and returns nothing. One left-to-right pass over the tokens;
    candidate names are indexed by their first word.
    """
    covered = bytearray(len(doc))
    for m in mentions_of(entities):
        for k in range(m.ts, m.te):
            covered[k] = 1
    index = _name_index(doc, entities)
    n, i = len(doc), 0
    while index and i < n:
        tok = doc[i]
        cands = index.get(tok.lower_) if not covered[i] and tok.text[:1].isupper() else None
        hit = _match(doc, i, cands, covered) if cands else None
        if hit is None:
            i += 1
            continue
        j, e_i = hit
        entities[e_i].mentions.append(RawMention(i, j, doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text),
                                                 entities[e_i].label, entity=e_i))
        i = j
    for entity in entities:
        entity.mentions.sort(key=lambda m: m.start)


def _name_index(doc: Doc, entities: list[EntityState]) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """First word -> (word sequence, entity index) of every name form (and a person's surname), longest first."""
    index: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for e_i, ent in enumerate(entities):
        seqs = {tuple(doc[k].lower_ for k in range(m.ts, m.te)) for m in ent.mentions}
        if ent.label == "PERSON":
            seqs |= {(doc[m.te - 1].lower_,) for m in ent.mentions if m.te - m.ts >= 2}
        for seq in seqs:
            if len(seq) == 1 and (len(seq[0]) < 3 or not seq[0].isalpha()):
                continue
            index.setdefault(seq[0], []).append((seq, e_i))
    for lst in index.values():
        lst.sort(key=lambda x: -len(x[0]))
    return index


def _match(doc: Doc, i: int, cands: list[tuple[tuple[str, ...], int]], covered: bytearray) -> tuple[int, int] | None:
    """(end token, entity) of the longest candidate name at token ``i``, not inside a longer capitalised run."""
    n = len(doc)
    for seq, e_i in cands:
        j = i + len(seq)
        if j <= n and all(not covered[k] and doc[k].lower_ == seq[k - i]
                          and (doc[k].text[:1].isupper() or not doc[k].is_alpha) for k in range(i, j)):
            prev_cap = i > 0 and doc[i - 1].is_title and not covered[i - 1] and not doc[i].is_sent_start
            next_cap = j < n and doc[j].is_title and not covered[j]
            return None if prev_cap or next_cap else (j, e_i)
    return None


_ACRONYM = re.compile(r"(?<![\w.&-])[A-Z][A-Z&]{1,4}(?![\w.&-])")
# short capitals that are not names (units, times, roman numerals, common abbreviations)
NOT_ACRONYMS = frozenset({
    "CEO", "CFO", "COO", "GMT", "BST", "EST", "CET", "UTC", "AM", "PM", "TV", "OK", "ID", "GDP", "GNP",
    "AIDS", "HIV", "DNA", "PC", "IT", "AI", "CD", "DVD", "FM", "USD", "EUR", "GBP", "KG", "KM", "MW",
    "MPH", "II", "III", "IV", "VI", "VII", "VIII", "IX", "XI", "XII", "MP", "MPS", "VIP", "PR", "NO", "VS",
    "OF", "THE", "AND", "FOR", "IN", "ON", "AT", "TO", "BY",
    "I", "A", "Q", "W", "L", "D", "NA", "PPE", "SUV", "URL", "FAQ", "PDF", "CCTV", "CPI", "IPO", "NB",
})
COUNTRY_ACRONYMS = frozenset({"US", "USA", "UK", "UAE", "DRC", "PRC", "ROK", "DPRK"})


def acronyms(doc: Doc, entities: list[EntityState], labels: Iterable[str] = DEFAULT_LABELS) -> None:
    """Add to ``entities`` the short all-capital names the model missed, in running (mixed-case) text.

    "the National Human Rights Commission (NHRC)" makes NHRC that entity's alias; any other
    untagged "KDP" in a line with lower-case words is an ORG (a few country codes are GPE).
    Headlines and tables in capitals are left alone. Changes ``entities`` in place and returns
    nothing. One regular-expression pass over the text.
    """
    labels = frozenset(labels)
    if "ORG" not in labels:
        return
    text = doc_text(doc)
    mentions = mentions_of(entities)
    covered = bytearray(len(text))
    for m in mentions:
        covered[m.start:m.end] = b"\x01" * (m.end - m.start)
    ends = {m.end: m.entity for m in mentions}
    by_text: dict[str, int] = {}
    added = False
    for match in _ACRONYM.finditer(text):
        s, e = match.span()
        word = match.group()
        if covered[s] or word in NOT_ACRONYMS:
            continue
        ls, le = text.rfind("\n", 0, s) + 1, text.find("\n", e)
        line = text[ls:le if le >= 0 else len(text)]
        if sum(w.islower() for w in line.split()) < 3:
            continue  # a headline or a table row
        span = doc.char_span(s, e)
        if span is None:
            continue
        ent = by_text.get(word, -1)
        if ent < 0 and text[max(0, s - 2):s] == " (" and text[e:e + 1] == ")":
            ent = ends.get(s - 2, -1)  # "Commission (NHRC)"
        if ent < 0:
            label = "GPE" if word in COUNTRY_ACRONYMS else "ORG"
            if label not in labels:
                continue
            ent = len(entities)
            entities.append(EntityState(name=word, label=label, key=name_key(word)))
        by_text[word] = ent
        m = RawMention(span.start, span.end, s, e, entities[ent].label, entity=ent)
        entities[ent].mentions.append(m)
        added = True
    if added:
        for entity in entities:
            entity.mentions.sort(key=lambda m: m.start)
