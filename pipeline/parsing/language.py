"""Language: detection with py3langid (its model ships in the wheel) and normalization of declared codes.

py3langid was chosen over lingua: lingua's accurate mode holds 1.26 GB and takes 11 s to load
(its low-accuracy mode is no better than py3langid on short texts); py3langid holds about
100 MB with numpy and loads in about a second, once per process (docs/quality.md).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import Any

from pipeline.article import normalize_language

MIN_LETTERS = 20  # fewer letters than this: too little text to tell
MIN_CONFIDENCE = 0.5  # normalized probability of the best language
SAMPLE_CHARS = 5_000  # detection reads the start of the text: bounded time whatever the length
_LETTER = re.compile(r"[^\W\d_]")  # a word character that is neither a digit nor "_": a letter

__all__ = ["detect_language", "normalize_language"]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's most likely language, or None when too short or unsure."""
    sample = text[:SAMPLE_CHARS]
    if next(islice(_LETTER.finditer(sample), MIN_LETTERS - 1, None), None) is None:  # stops at the 20th
        return None
    lang, confidence = _identifier().classify(sample.encode("utf-8", "replace").decode("utf-8"))
    return str(lang) if confidence >= MIN_CONFIDENCE else None
