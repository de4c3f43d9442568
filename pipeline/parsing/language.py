"""A light language guesser: stopword ratios for Latin-script languages, the script for the rest.

Good enough to flag that an article is not English; not a real language identifier.
"""

from __future__ import annotations

import re
from collections import Counter

MIN_WORDS = 20
MIN_LETTERS = 40  # for scripts written without spaces
MIN_RATIO = 0.12  # share of words that are stopwords of the best language

# Frequent function words, chosen to overlap little between languages.
_STOPWORDS = {
    "en": "the of and to is was that for on with as are by this from be have has had were which "
          "it its their they he she his her not but an at would will been who said",
    "de": "der die das und ist nicht ein eine einen dem den des mit sich auf für von zu im auch "
          "wird wurde sind nach bei aus oder wie noch über werden hat",
    "fr": "le la les et est des une du dans pour qui que sur pas au aux avec ce cette sont il elle "
          "ont été par plus ses leur selon",
    "es": "el los las y es del una por con que para se su al lo como más pero sus fue han "
          "ha sobre este esta según también",
    "it": "il lo gli e è della del che di un una per con non sono nel alla dei delle anche più "
          "come ha stato questo dalla sul",
    "nl": "het een van is dat niet op te zijn voor met die aan er om ook maar bij naar "
          "werd worden heeft wordt deze",
    "pt": "o os as e é do da dos das um uma em na para com não que se por mais ao pelo pela "
          "foi são seu sua também",
}
_WORDS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")
# (first, last code point, language) for scripts that point to one language.
_SCRIPTS = [
    (0x0400, 0x04FF, "ru"),  # Cyrillic: Russian is the best single guess
    (0x0370, 0x03FF, "el"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x3040, 0x30FF, "ja"),  # kana before Han: Japanese mixes both
    (0xAC00, 0xD7AF, "ko"),
    (0x4E00, 0x9FFF, "zh"),
]


def _script(text: str) -> str | None:
    counts: Counter[str] = Counter()
    latin = 0
    for char in text:
        if not char.isalpha():
            continue
        code = ord(char)
        if code < 0x250:
            latin += 1
            continue
        for first, last, lang in _SCRIPTS:
            if first <= code <= last:
                counts[lang] += 1
                break
    if not counts:
        return None
    if counts["ja"] and counts["zh"]:
        counts["ja"] += counts.pop("zh")
    lang, n = counts.most_common(1)[0]
    return lang if n >= MIN_LETTERS and n > latin else None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's most likely language, or None when too short or unsure."""
    if lang := _script(text):
        return lang
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in _WORDS.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] / len(words) >= MIN_RATIO else None
