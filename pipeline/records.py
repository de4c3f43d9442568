"""Plain record types that travel between the rooms, with no behaviour of their own.

Knows nothing of Kafka, SQL or spaCy: the bus turns client messages into ``ConsumedRecord``
and the store reads ``Position``, so neither needs the other's library. ``Refusal`` is the one
value for anything refused (its codes: ``pipeline.reasons``). The extraction records (``Extraction``
and its ``Entity``, ``Mention``, ``Event``, ``Span``, ``Trigger``) are what ``pipeline.extract``
returns and ``pipeline.store`` writes: here, so that the store needs neither spaCy nor the rules.
``Extraction.to_contract`` gives the ``newsstream extract --format jsonl`` shape that
../shared/tools read; keep it stable.

``Article`` is the one record not here: it is defined in ``pipeline/article.py`` with its field table
(``FIELD_META``), and not re-exported, because ``pipeline.article`` imports ``pipeline.errors``, which
imports this module (``Refusal``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Position:
    """Where a message came from: what an article row records of its delivery."""

    topic: str
    partition: int
    offset: int

    @property
    def origin(self) -> str:
        """How error messages name this position: ``topic[partition]@offset``."""
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass
class Refusal:
    """Something refused, wherever: an input a producer would not send, a message the consumer
    dead-letters, an item the store did not write, a request serve-ingest answered with an error.

    ``origin`` names it (``file:line``, a URL, ``topic[partition]@offset``...), ``code`` is one of
    ``pipeline.reasons``, ``reason`` says why in words. Optional: ``raw``, the refused input's text
    (a JSON record as one line) to fix and send again; for an item of a store batch, its ``index``
    in the batch, its ``article_id`` and ``position``.
    """

    origin: str
    code: str
    reason: str
    raw: str | None = field(default=None, compare=False, repr=False)
    index: int | None = None
    article_id: str | None = None
    position: Position | None = None

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason} [{self.code}]"


@dataclass(frozen=True)
class ConsumedRecord:
    """One message read from Kafka, as the consumer loop sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp_ms: int | None = None  # CreateTime when the producer set it, else None

    @property
    def position(self) -> Position:
        return Position(self.topic, self.partition, self.offset)

    @property
    def origin(self) -> str:
        """How error messages name this record: ``topic[partition]@offset``."""
        return self.position.origin


KINDS = ("country", "admin1", "city", "continent")  # admin1: a first-level division (state, province, oblast)


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry: what ``entities[].geo`` holds in the extract contract.

    ``admin1``: ISO 3166-2 when known (``US-TX``, ``BY-MI``), else GeoNames' admin1 key (``CA.08``);
    ``country``: ISO 3166-1 alpha-2 (None for a continent). Countries sit at their capital,
    first-level divisions at the mean of their cities (None when the gazetteer has no city there).
    """

    geonameid: int | None
    name: str
    kind: str
    country: str | None
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    population: int = 0

    def to_contract(self) -> dict[str, Any]:
        return {"geonameid": self.geonameid, "name": self.name, "kind": self.kind, "country": self.country,
                "admin1": self.admin1, "lat": self.lat, "lon": self.lon}


# -- extraction records -----------------------------------------------------------------------------
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
    geo: Place | None = None  # where it is (GPE/LOC/FAC), or the country a NORP names; None: no place


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    entity: str | None = None  # canonical name of the entity it refers to
    sector: str | None = None  # the agent sector of its head noun ("police", "the Russian troops": military)


@dataclass(frozen=True)
class Trigger:
    text: str
    lemma: str
    start: int
    end: int


@dataclass
class Event:
    type: str  # a type of the lexicon (PLOVER's for political events, ARREST, MERGER...), "STATEMENT" or "OTHER"
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
    country: str | None = None  # ISO 3166 alpha-2: its location's, else its sentence's places', else the dateline's
    family: str = "other"  # the type's family: political, business, justice, personnel, life, sport...
    quote: Span | None = None  # a STATEMENT's reported words
    plover: str | None = None  # the PLOVER type a political coder would give it (ARREST: COERCE), if any


@dataclass
class Extraction:
    entities: list[Entity] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    country: str | None = None  # ISO 3166 alpha-2: where the article's news happens

    def to_contract(self, article: dict[str, Any]) -> dict[str, Any]:
        """The JSON contract: {"article": {...}, "entities": [...], "events": [...]}.

        ``article`` gains ``country``; each entity ``geo`` (a place or null), each event ``country``.
        """
        return {
            "article": {**article, "country": self.country},
            "entities": [
                {"name": e.name, "label": e.label,
                 "mentions": [{"text": m.text, "start": m.start, "end": m.end, "field": m.field}
                              for m in e.mentions],
                 "geo": e.geo.to_contract() if e.geo else None}
                for e in self.entities
            ],
            "events": [_event_dict(ev) for ev in self.events],
        }


def _span(s: Span | None) -> dict[str, Any] | None:
    return None if s is None else {"text": s.text, "start": s.start, "end": s.end, "entity": s.entity,
                                   "sector": s.sector}


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
        "country": ev.country,
        "family": ev.family,
        "plover": ev.plover,
        **({"quote": _span(ev.quote)} if ev.quote else {}),
    }
