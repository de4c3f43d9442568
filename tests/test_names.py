"""One list of honorifics (pipeline/names.py) for extraction and the store (issue 18.9)."""

from __future__ import annotations

import pytest

from pipeline.names import HONORIFICS, is_honorific, strip_honorific


@pytest.mark.parametrize("word", sorted(HONORIFICS))
def test_every_honorific_is_dropped_alike_by_extraction_labels_and_the_store(word: str) -> None:
    from pipeline.extract.entities import _is_title
    from pipeline.extract.labels import BEFORE
    from pipeline.store.entities import identity_key

    written = word.capitalize()
    person_cue = next(rx for label, _w, rx in BEFORE if label == "PERSON")
    for form in (written, written + "."):
        assert is_honorific(form) and _is_title(form.lower())
        assert person_cue.search(f"said {form} "), form
        assert identity_key(f"{form} Ebbers", "PERSON") == "ebbers"
        assert strip_honorific(f"{form} Jane Smith") == "Jane Smith"
    assert strip_honorific(written) == written  # a name that is only an honorific stays


def test_a_name_that_merely_starts_like_an_honorific_is_kept() -> None:
    assert strip_honorific("Mrsa Khan") == "Mrsa Khan" and strip_honorific("Drake Bell") == "Drake Bell"
    assert not is_honorific("Mx") and not is_honorific("")
