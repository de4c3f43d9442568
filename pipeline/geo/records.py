"""Plain records of the geo room: places in, places out (no spaCy, no SQL, no Kafka)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.records import KINDS, Place  # the place a resolved name stands for travels with the extraction

__all__ = ["KINDS", "Candidate", "Place", "PlaceName", "Resolved"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place a normalized name may stand for; ``primary``: its own name, not an alternate one."""

    place: Place
    primary: bool = True


@dataclass(frozen=True)
class PlaceName:
    """One named thing of an article that may be a place: an entity, with where it is mentioned.

    ``label``: the spaCy label (GPE, LOC, FAC, NORP); ``spans``: character offsets of its mentions
    in ``text``; ``roles``: how many events name it as their location.
    """

    name: str
    label: str
    forms: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    dateline: bool = False
    event_locations: int = 0


@dataclass(frozen=True)
class Resolved:
    """What resolution gives for one PlaceName: the place (None: unresolved) and why."""

    place: Place | None
    reason: str = ""  # "only", "context", "containment", "population", "demonym", "override"...
    alternatives: int = 0  # other candidates it was chosen from


@dataclass(frozen=True)
class GazetteerStats:
    cutoff: int
    places: int
    names: int
    load_seconds: float
    rss_mb: float | None = None  # resident memory the load added (Linux), None when unknown
    extra_files: tuple[str, ...] = field(default_factory=tuple)
