"""The words of a title and lead that say what happened: lower-cased, stop words and numbers out."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP_WORDS = """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves says said say new news
one two three first last year years week day days time told according report reports reported people man woman
amid may might must shall via per it's get gets got monday tuesday wednesday thursday friday saturday sunday
today yesterday tomorrow updated update video photos photo watch live breaking read latest world us online com
www http https
"""
STOP = frozenset(_STOP_WORDS.split())


def content_words(*texts: str | None) -> frozenset[str]:
    """Content words (3+ letters, not stop words), a crude plural folded: 'missiles' -> 'missile'."""
    out = set()
    for text in texts:
        for w in _WORD.findall((text or "").lower()):
            if w in STOP:
                continue
            if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
                w = w[:-1]
            out.add(w)
    return frozenset(out)
