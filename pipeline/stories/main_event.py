"""The article's main event: who did what to whom, when, where — the one an editor reads first.

Taken from the title and the lead: of the article's events, the one whose sentence shares the
most content words with the title and lead, preferring events with a named actor and target, a
PLOVER type, asserted rather than reported or hypothetical, not negated, and early in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.stories.text import content_words


@dataclass(frozen=True)
class EventText:
    seq: int
    type: str
    actor: str | None  # the actor's name (entity or text)
    target: str | None
    sentence: str
    start: int  # the trigger's offset in the body
    modality: str = "asserted"
    negated: bool = False


def rank(ev: EventText, head: frozenset[str], length: int) -> float:
    words = content_words(ev.sentence)
    overlap = len(words & head) / max(1, len(head)) if head else 0.0
    named = (ev.actor is not None) + (ev.target is not None)
    return (2.0 * overlap + 0.5 * named + (0.3 if ev.type != "OTHER" else 0.0)
            + {"asserted": 0.2, "reported": 0.1}.get(ev.modality, -0.3) - (0.5 if ev.negated else 0.0)
            - 0.5 * ev.start / max(1, length))


def main_event(title: str | None, lead: str | None, events: Sequence[EventText], body_length: int = 1) -> int | None:
    """The ``seq`` of the main event, None for an article without events."""
    if not events:
        return None
    head = content_words(title, lead)
    return max(events, key=lambda e: (rank(e, head, body_length), -e.seq)).seq
