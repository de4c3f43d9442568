"""extract_doc / extract_articles: the rules wired together into an Extraction of plain records."""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.article import Article
from pipeline.config import NLP_BATCH_SIZE
from pipeline.extract.entities import (
    DEFAULT_LABELS,
    acronyms,
    assign_roles,
    canonicalize,
    doc_text,
    find_dateline,
    find_mentions,
    mentions_of,
    propagate,
    sentences,
)
from pipeline.extract.events import find_events
from pipeline.extract.labels import relabel
from pipeline.extract.lexicon import Lexicon
from pipeline.extract.places import add_places
from pipeline.geo import Gazetteer
from pipeline.records import Entity, Extraction, Mention


def _sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    return [(s[2], s[3]) for s in sentences(doc)]


def extract_doc(doc: Doc, article: Article, *, keep_all_events: bool = False, named_only: bool = False,
                labels: frozenset[str] | None = None, lexicon: Lexicon | None = None,
                gazetteer: Gazetteer | None = None) -> Extraction:
    """Entities and events of one article whose ``body`` was parsed into ``doc``, with their places.

    Events kept: those with a named or agent ("police") participant; ``named_only``: a named one;
    ``keep_all_events``: any. ``labels``: the entity labels kept (default: the named ones); ``lexicon``:
    an event lexicon other than the packaged lexicon.json (``Lexicon.from_file``); ``gazetteer``: places other than the
    process's ``pipeline.geo.default_gazetteer()``.
    """
    labels = DEFAULT_LABELS if labels is None else frozenset(labels)
    text = doc_text(doc)
    ents = canonicalize(doc, find_mentions(doc, labels, dateline=article.dateline))
    propagate(doc, ents)  # in place: names the model missed
    acronyms(doc, ents, labels)
    ents = relabel(ents, text, gazetteer=gazetteer)  # PERSON/ORG/GPE by gazetteer, corporate cues, first names
    mentions = mentions_of(ents)
    events, roles = find_events(doc, mentions, ents, published=article.published_date,
                                keep_all=keep_all_events, lexicon=lexicon, named_only=named_only)
    ents = assign_roles(ents, roles)  # appositions read by the events ("head of the rebel army")
    sents = _sentence_bounds(doc)
    sent_of_char = _sentence_lookup(sents)
    entities = []
    for e in ents:
        entities.append(Entity(
            name=e.name, label=e.label, roles=list(e.roles),
            mentions=[Mention(text=text[m.start:m.end], start=m.start, end=m.end, field="body",
                              sentence=sent_of_char(m.start, text)) for m in e.mentions]))
    return add_places(Extraction(entities=entities, events=events), text, sents,
                      find_dateline(text, article.dateline), gazetteer)


def _sentence_lookup(sents: list[tuple[int, int]]) -> Callable[[int, str], str | None]:
    starts = [s for s, _ in sents]

    def find(pos: int, text: str) -> str | None:
        i = bisect.bisect_right(starts, pos) - 1
        if i < 0:
            return None
        s, e = sents[i]
        return text[s:e].strip()

    return find


def extract_articles(nlp: Language, articles: Iterable[Article], *, batch_size: int = NLP_BATCH_SIZE,
                     clock: dict[str, float] | None = None, **kw: Any) -> Iterator[tuple[Article, Extraction]]:
    """Parse article bodies with ``nlp.pipe`` (in order) and yield (article, extraction).

    Each chunk of ``batch_size`` articles is parsed inside ``nlp.memory_zone()`` (when the spaCy
    version has it) so a long-running worker does not grow; the records hold only str/int.
    ``clock``: seconds are added to its ``"nlp"`` (spaCy) and ``"rules"`` (``extract_doc``) keys.
    """
    it = iter(articles)
    timing = clock if clock is not None else {}
    timing.setdefault("nlp", 0.0)
    timing.setdefault("rules", 0.0)
    while True:
        chunk = list(islice(it, batch_size))
        if not chunk:
            return
        zone = nlp.memory_zone() if hasattr(nlp, "memory_zone") else contextlib.nullcontext()
        with zone:
            results = []
            docs = nlp.pipe((a.body for a in chunk), batch_size=batch_size)
            for a in chunk:
                t0 = time.perf_counter()
                doc = next(docs)
                t1 = time.perf_counter()
                results.append((a, extract_doc(doc, a, **kw)))
                timing["nlp"] += t1 - t0
                timing["rules"] += time.perf_counter() - t1
        yield from results
