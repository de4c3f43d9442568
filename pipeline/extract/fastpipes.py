"""Faster stand-ins for two spaCy pipes the model ships with, giving token for token the same result.

In ``en_core_web_sm`` the ``attribute_ruler`` (POS and morphology from the tagger's tags, plus ~120
exceptions) and the rule ``lemmatizer`` cost about a fifth of the pipeline's time while the neural
pipes do the real work: the ruler runs spaCy's general ``Matcher`` with 179 patterns over every
token, and the lemmatizer makes a Python call and a ``MorphAnalysis`` per token. The rules of this
package read ``pos_``, ``morph`` and ``lemma_``, so the pipes cannot be dropped; these replacements
do the same job cheaply:

* ``newsstream_attributes`` runs the *same* patterns (taken from the model's ruler at load time),
  compiled into lookups by the one attribute each pattern needs exactly (LOWER, TAG, DEP, IS_SPACE),
  and applies the matches in the ruler's order with spaCy's own ``set_token_attrs``;
* ``newsstream_lemmatizer`` reads (form, POS, morphology) from the Doc's arrays and looks them
  up in the model lemmatizer's own cache, calling it only on a miss; the answers it does not cache
  (proper nouns, base forms) are kept in a bounded cache of this pipe's own.

:func:`install` swaps them in only when every pattern uses what the compiler understands; any
other pipeline is left as it is. ``tests/test_fastpipes.py`` checks on real text that every token
gets the same tag, POS, morphology, lemma and dependency label as with spaCy's pipes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from spacy.attrs import DEP, IS_SPACE, LEMMA, LOWER, MORPH, ORTH, POS, TAG
from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens._retokenize import set_token_attrs

ATTRIBUTES_PIPE = "newsstream_attributes"
LEMMATIZER_PIPE = "newsstream_lemmatizer"
_KEYS = {"LOWER": LOWER, "TAG": TAG, "DEP": DEP, "IS_SPACE": IS_SPACE}
_INDEXED = ("LOWER", "TAG", "DEP")  # preferred order: the most selective attribute first

Test = Callable[[int], bool]


class Unsupported(Exception):
    """A pattern uses something the compiler does not handle: keep spaCy's own pipe."""


def _string_test(value: Any, strings: Any) -> tuple[Test, set[int] | None]:
    """(test on the attribute's hash, the hashes it accepts when that is a finite set, else None)."""
    if isinstance(value, str):
        h = strings.add(value)
        return (lambda v: v == h), {h}
    if isinstance(value, dict) and len(value) == 1:
        (op, arg), = value.items()
        if op == "IN" and isinstance(arg, list):
            hs = {strings.add(s) for s in arg}
            return (lambda v: v in hs), hs
        if op == "NOT_IN" and isinstance(arg, list):
            hs = {strings.add(s) for s in arg}
            return (lambda v: v not in hs), None
        if op == "REGEX" and isinstance(arg, str):
            rx = re.compile(arg)  # as the Matcher does: re.search (results are cached with the plans)
            return (lambda v: rx.search(strings[v]) is not None), None
    raise Unsupported(f"condition {value!r}")


class _Pattern:
    """One alternative of one ruler entry: per token a list of (column, test)."""

    def __init__(self, order: int, specs: Sequence[dict[str, Any]], strings: Any) -> None:
        self.order = order
        self.tests: list[list[tuple[int, Test]]] = []
        self.keys: dict[str, set[int]] = {}  # for the first token: attribute -> accepted hashes
        for n, spec in enumerate(specs):
            tests: list[tuple[int, Test]] = []
            for key, value in spec.items():
                if key not in _KEYS:
                    raise Unsupported(f"attribute {key}")
                col = list(_KEYS).index(key)
                if key == "IS_SPACE":
                    if not isinstance(value, bool):
                        raise Unsupported(f"IS_SPACE {value!r}")
                    tests.append((col, (lambda v: v == 1) if value else (lambda v: v == 0)))
                    if n == 0 and value:
                        self.keys["IS_SPACE"] = {1}
                    continue
                test, accepted = _string_test(value, strings)
                tests.append((col, test))
                if n == 0 and accepted is not None:
                    self.keys[key] = accepted
            self.tests.append(tests)

    def matches(self, rows: Sequence[Sequence[int]], i: int) -> bool:
        if i + len(self.tests) > len(rows):
            return False
        return all(test(rows[i + k][col]) for k, tests in enumerate(self.tests) for col, test in tests)


CACHE_LIMIT = 200_000  # entries per cache: cleared when full, so a worker that runs for months stays flat
UNCACHED_LIMIT = 50_000  # lemmas the model does not cache (names, base forms), kept by FastLemmatizer


class FastAttributeRuler:
    """The model's AttributeRuler patterns, matched through hash lookups instead of the Matcher.

    A one-token pattern depends only on the token's (LOWER, TAG, DEP, IS_SPACE), so the entries it
    matches are worked out once per such combination ("plan") and their attributes merged in the
    ruler's order; longer patterns are checked where their first token matches.
    """

    def __init__(self, ruler: Any) -> None:
        strings = ruler.vocab.strings
        self.attrs: list[dict[Any, Any]] = list(ruler.attrs)
        self.indices: list[int] = list(ruler.indices)
        self.patterns = [_Pattern(order, specs, strings) for order, entry in enumerate(ruler.patterns)
                         for specs in _alternatives(entry)]
        self.index: dict[str, dict[int, list[_Pattern]]] = {k: {} for k in (*_INDEXED, "IS_SPACE")}
        self.always: list[_Pattern] = []
        for p in self.patterns:
            key = next((k for k in (*_INDEXED, "IS_SPACE") if k in p.keys), None)
            if key is None:
                self.always.append(p)
            else:
                for h in p.keys[key]:
                    self.index[key].setdefault(h, []).append(p)
        self.plans: dict[tuple[int, ...], tuple[tuple[int, ...], list[_Pattern]]] = {}
        self.merged: dict[tuple[int, ...], dict[Any, Any]] = {}

    def _plan(self, row: tuple[int, ...]) -> tuple[tuple[int, ...], list[_Pattern]]:
        """(entries matched by this token alone, longer patterns whose first token it matches)."""
        singles, longer = set(), []
        groups = [self.index[k].get(v) for k, v in zip((*_INDEXED, "IS_SPACE"), row, strict=True)]
        for p in (p for group in (*groups, self.always) if group for p in group):
            if all(test(row[col]) for col, test in p.tests[0]):
                if len(p.tests) == 1:
                    singles.add(p.order)
                else:
                    longer.append(p)
        if len(self.plans) >= CACHE_LIMIT:
            self.plans.clear()
        return tuple(sorted(singles)), longer

    def _attrs(self, orders: tuple[int, ...]) -> dict[Any, Any]:
        """The attributes of these entries merged in the ruler's order (later entries win)."""
        found = self.merged.get(orders)
        if found is None:
            found = {}
            for order in orders:
                found.update(self.attrs[order])
            self.merged[orders] = found
        return found

    def __call__(self, doc: Doc) -> Doc:
        rows = [tuple(r) for r in doc.to_array([LOWER, TAG, DEP, IS_SPACE]).tolist()]
        plans, n = self.plans, len(rows)
        targets: list[tuple[int, ...]] = []
        extra: dict[int, list[int]] = {}  # token -> entries of longer patterns that set it
        for i, row in enumerate(rows):
            plan = plans.get(row)
            if plan is None:
                plan = plans[row] = self._plan(row)
            targets.append(plan[0])
            for p in plan[1]:
                j = i + self.indices[p.order]
                if p.matches(rows, i) and 0 <= j < n:
                    extra.setdefault(j, []).append(p.order)
        for j, more in extra.items():
            targets[j] = tuple(sorted({*targets[j], *more}))
        for j, orders in enumerate(targets):
            if orders:
                set_token_attrs(doc[j], self._attrs(orders))
        return doc


def _alternatives(entry: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pats = entry["patterns"]
    if not all(p and all(isinstance(s, dict) for s in p) for p in pats):
        raise Unsupported(f"pattern {pats!r}")
    return list(pats)


class FastLemmatizer:
    """The model's rule lemmatizer without its per-token overhead: every answer kept, keyed as the
    lemmatizer keys its own cache (form, POS, morphology: all its answer depends on), read straight
    from the Doc's arrays and written back as one array.

    The model caches no answer for a proper noun or a base form (a singular noun, an infinitive...),
    about a third of the tokens of news, so it would run its rules for each of them every time. Those
    answers are kept here (``UNCACHED_LIMIT``, cleared when full), the rest are read from its cache.
    """

    def __init__(self, lemmatizer: Any) -> None:
        self.lemmatizer = lemmatizer
        self.overwrite = bool(getattr(lemmatizer, "overwrite", False))
        self.uncached: dict[tuple[int, int, int], str] = {}

    def __call__(self, doc: Doc) -> Doc:
        table = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas: Any = table[:, 3].copy()  # uint64, as to_array gives it
        add = doc.vocab.strings.add
        uncached, cache = self.uncached, self.lemmatizer.cache
        for i, (orth, pos, morph, lemma) in enumerate(table.tolist()):
            if lemma and not self.overwrite:
                continue
            key = (orth, pos, morph)
            form = uncached.get(key)
            if form is None:
                forms = cache.get(key)
                form = forms[0] if forms is not None else self._miss(doc, i, key)
            lemmas[i] = add(form)
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc

    def _miss(self, doc: Doc, i: int, key: tuple[int, int, int]) -> str:
        """Ask the model's lemmatizer; keep its answer here when it does not cache it itself."""
        lem = self.lemmatizer
        if len(lem.cache) >= CACHE_LIMIT:
            lem.cache.clear()
        form = str(lem.lemmatize(doc[i])[0])
        if key not in lem.cache:  # a proper noun or a base form
            if len(self.uncached) >= UNCACHED_LIMIT:
                self.uncached.clear()
            self.uncached[key] = form
        return form


def _make(kind: str) -> Callable[[Language, str], Any]:
    def factory(nlp: Language, name: str) -> Any:
        if kind == "attributes":
            return FastAttributeRuler(nlp.get_pipe("attribute_ruler"))
        return FastLemmatizer(nlp.get_pipe("lemmatizer"))

    return factory


Language.factory(ATTRIBUTES_PIPE, func=_make("attributes"))
Language.factory(LEMMATIZER_PIPE, func=_make("lemmatizer"))


def install(nlp: Language) -> list[str]:
    """Swap the model's ``attribute_ruler`` and rule ``lemmatizer`` for the fast ones; returns what was swapped."""
    swapped = []
    if "attribute_ruler" in nlp.pipe_names:
        try:
            nlp.add_pipe(ATTRIBUTES_PIPE, after="attribute_ruler")
        except Unsupported:
            pass
        else:
            nlp.remove_pipe("attribute_ruler")
            swapped.append("attribute_ruler")
    lem = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
    if lem is not None and getattr(lem, "mode", None) == "rule":
        nlp.add_pipe(LEMMATIZER_PIPE, after="lemmatizer")
        nlp.remove_pipe("lemmatizer")
        swapped.append("lemmatizer")
    return swapped
