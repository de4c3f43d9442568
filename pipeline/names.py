"""Words about names that extraction and the store both need (neither imports the other): the honorifics.

One list, in lower case and without a dot; "Mr", "mr." and "MRS" are honorifics all the same.
``pipeline.extract`` splits them off a person's name and reads one before a name as a PERSON cue
(``labels.py``); ``pipeline.store`` drops them from an entity's key ("Mr Ebbers" = Ebbers).
Knows nothing of Kafka, SQL or spaCy.
"""

from __future__ import annotations

HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "mister", "madame",
                        "monsieur", "herr"})

# a regular expression for one honorific as written before a name: capitalised, perhaps with its dot
HONORIFIC_PATTERN = (r"(?:" + "|".join(sorted((h.capitalize() for h in HONORIFICS), key=lambda w: (-len(w), w)))
                     + r")\.?")


def is_honorific(word: str) -> bool:
    """``word`` (any case, with or without a trailing dot) is an honorific."""
    return word.lower().rstrip(".") in HONORIFICS


def strip_honorific(name: str) -> str:
    """ "Mr Ebbers" -> "Ebbers", "Dr. Jane Smith" -> "Jane Smith"; a name that is only an honorific stays."""
    words = name.split()
    while len(words) > 1 and is_honorific(words[0]):
        words = words[1:]
    return " ".join(words)
