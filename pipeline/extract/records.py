"""Plain records the extraction rules return: no spaCy objects, no SQL.

``Extraction.to_contract`` gives the ``newsstream extract --format jsonl``
shape that ../shared/tools read; keep it stable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mention:
    text: str
    start: int  # character offset into the field's text
    end: int
    field: str = "body"  # "body" | "title"
    sentence: str | None = None  # the sentence it stands in (stored, not in the contract)


@dataclass
class Entity:
    name: str  # canonical name within the article
    label: str  # spaCy label: PERSON, ORG, GPE...
    mentions: list[Mention] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "Belarusian President"...


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    entity: str | None = None  # canonical name of the entity it refers to


@dataclass(frozen=True)
class Trigger:
    text: str
    lemma: str
    start: int
    end: int


@dataclass
class Event:
    type: str  # PLOVER type or "OTHER"
    trigger: Trigger
    actor: Span | None = None
    target: Span | None = None
    location: Span | None = None
    date: str | None = None  # YYYY-MM-DD
    date_text: str | None = None
    negated: bool = False
    modality: str = "asserted"  # asserted | hypothetical | reported
    sentence: str = ""
    source: Span | None = None  # who reported it, for modality == "reported"


@dataclass
class Extraction:
    entities: list[Entity] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def to_contract(self, article: dict[str, Any]) -> dict[str, Any]:
        """The JSON contract: {"article": {...}, "entities": [...], "events": [...]}."""
        return {
            "article": article,
            "entities": [
                {"name": e.name, "label": e.label,
                 "mentions": [{"text": m.text, "start": m.start, "end": m.end, "field": m.field}
                              for m in e.mentions]}
                for e in self.entities
            ],
            "events": [_event_dict(ev) for ev in self.events],
        }


def _span(s: Span | None) -> dict[str, Any] | None:
    return None if s is None else {"text": s.text, "start": s.start, "end": s.end, "entity": s.entity}


def _event_dict(ev: Event) -> dict[str, Any]:
    return {
        "type": ev.type,
        "trigger": asdict(ev.trigger),
        "actor": _span(ev.actor),
        "target": _span(ev.target),
        "location": _span(ev.location),
        "date": ev.date,
        "date_text": ev.date_text,
        "negated": ev.negated,
        "modality": ev.modality,
        "sentence": ev.sentence,
        **({"source": _span(ev.source)} if ev.source else {}),
    }
