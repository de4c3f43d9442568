"""Name keys: the one normalization the index and the lookups share."""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[.\u2019'`´]")  # "U.S." -> "us", "Côte d’Ivoire" -> "cote divoire"
_SPACE = re.compile(r"[\s\-‐‑–—_/,]+")
_LATIN = re.compile(r"[a-z0-9 ()&]+")
_ARTICLE = re.compile(r"^the ")
_POSSESSIVE = re.compile(r"(?:'s|')$")
_LAST_LATIN = "\u024f"  # the end of Latin Extended-B


def name_key(text: str) -> str:
    """Accents stripped, case folded, dots and apostrophes dropped, dashes as spaces, no leading "the".

    ``"Rostov-on-Don"`` and ``"rostov on don"`` share a key; so do ``"the U.S."`` and ``"US"``.
    Returns "" for a name with nothing Latin left (the index keeps Latin-script names only).
    """
    text = _POSSESSIVE.sub("", text.strip().replace("’", "'"))
    if not text.isascii():
        text = _SPACE.sub(" ", text)
        if max(text) > _LAST_LATIN:  # another script: not for English text
            return ""
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    folded = _DROP.sub("", text.casefold())
    folded = _ARTICLE.sub("", _SPACE.sub(" ", folded).strip())
    return folded if _LATIN.fullmatch(folded or "-") else ""


def is_code_like(name: str) -> bool:
    """Airport and other codes among GeoNames' alternate names ("MSQ", "LON"): never indexed."""
    return len(name) <= 4 and name.isupper()
