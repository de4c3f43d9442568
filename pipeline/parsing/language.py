"""Language: detection with py3langid (its model ships in the wheel) and normalization of declared codes.

py3langid was chosen over lingua: lingua's accurate mode holds 1.26 GB and takes 11 s to load
(its low-accuracy mode is no better than py3langid on short texts); py3langid holds about
100 MB with numpy and loads in about a second, once per process (docs/quality.md).

Many texts at once (a feed's items) are scored in blocks: each block gathers the model rows of
the n-grams its texts share once, and sums them for every text in one numpy pass. That is
py3langid's ``classify`` (normalized probabilities) text by text, less its per-call overhead:
30,000 distinct one-line texts took 44 µs each one by one and 21 µs in blocks (the rest is
py3langid's walk over the bytes, in Python). It reads the identifier's model attributes, so the
version of py3langid is pinned in pyproject.toml, and ``tests/test_language.py`` checks that many
texts at once get the decisions of ``detect_language`` (``classify``) text by text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

from pipeline.article import normalize_language

MIN_LETTERS = 20  # fewer letters than this: too little text to tell
MIN_CONFIDENCE = 0.5  # normalized probability of the best language
SAMPLE_CHARS = 5_000  # detection reads the start of the text: bounded time whatever the length
BLOCK_NGRAMS = 4_000  # n-grams per scoring block: ~2.3 MB of gathered rows stay in cache (20,000: 30 % slower)
# MIN_LETTERS letters (word characters that are neither digits nor "_"), anything between them
_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){" + str(MIN_LETTERS) + "}")

__all__ = ["detect_language", "detect_languages", "normalize_language"]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's most likely language, or None when too short or unsure."""
    sample = _sample(text)
    if sample is None:
        return None
    lang, confidence = _identifier().classify(sample)
    return str(lang) if confidence >= MIN_CONFIDENCE else None


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """``detect_language`` of each text, scored in blocks: the same decisions, faster for many texts."""
    found: list[str | None] = [None] * len(texts)
    block: list[tuple[int, int, list[int]]] = []  # (text's position, its byte length, its n-grams)
    size = 0
    for position, text in enumerate(texts):
        sample = _sample(text)
        if sample is None:
            continue
        data, grams = _ngrams(sample)
        if grams:  # none known: every language alike, nothing to tell
            block.append((position, len(data), grams))
            size += len(grams)
        if size >= BLOCK_NGRAMS:
            _score(block, found)
            block, size = [], 0
    if block:
        _score(block, found)
    return found


def _sample(text: str) -> str | None:
    """The start of the text that detection reads, or None: too few letters to tell."""
    sample = text[:SAMPLE_CHARS]
    if _LETTERS.match(sample) is None:
        return None
    return sample.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"


def _ngrams(sample: str) -> tuple[bytes, list[int]]:
    """The bytes py3langid's ``classify`` reads, and the model's n-gram features found in them, one
    per occurrence (the walk of py3langid's ``visit_counts``, without counting)."""
    if sample.isupper():
        sample = sample.lower()
    data = unicodedata.normalize("NFC", sample).encode("utf-8", "surrogatepass")
    ident = _identifier()
    moves, rows, outputs = ident.tk_nextmove, ident._rowbase, ident.tk_output
    state = 0
    grams: list[int] = []
    append = grams.append
    for byte in data:
        state = moves[rows[state] + byte]
        feature = outputs[state]
        if feature >= 0:
            append(feature)
    return data, grams


def _score(block: list[tuple[int, int, list[int]]], found: list[str | None]) -> None:
    """Naive Bayes posteriors of a block's texts, as ``classify`` computes them one by one."""
    ident = _identifier()
    table = ident.nb_ptc
    grams = np.fromiter(chain.from_iterable(g for _, _, g in block), dtype=np.intp)
    owner = np.repeat(np.arange(len(block)), [len(g) for _, _, g in block])
    pairs, counts = np.unique(owner * table.shape[0] + grams, return_counts=True)  # (text, n-gram), counted
    text, gram = np.divmod(pairs, table.shape[0])
    shared, where = np.unique(gram, return_inverse=True)  # each model row gathered once
    rows = table[shared].astype(np.float32)[where]
    rows *= np.log1p(counts.astype(np.float32))[:, None]
    scores = np.add.reduceat(rows, np.flatnonzero(np.diff(text, prepend=-1)), axis=0) + ident.nb_pc
    scores *= (1.0 / np.sqrt(np.array([length for _, length, _ in block], dtype=np.float32)))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for keep, fold in ident._alias_pairs:  # one label under two columns (srl -> sr)
        scores[:, keep] += scores[:, fold]
        scores[:, fold] = 0.0
    best = scores.argmax(axis=1)
    for (position, _, _), column, confidence in zip(block, best, scores[np.arange(len(block)), best], strict=True):
        if confidence >= MIN_CONFIDENCE:
            found[position] = str(ident.nb_classes[column])
