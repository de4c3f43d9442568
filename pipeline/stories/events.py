"""Story events: one event of a story however many articles report it (GDELT's NumMentions, NumSources).

Article events with the same type, actor and target whose days lie within ``days`` of each other
form one story event; it counts its mentions (article events), articles and distinct sources.
Events with neither a named actor nor a named target are not grouped (nothing says they are one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ArticleEvent:
    id: int  # the event row
    article: str
    source: str | None
    type: str
    actor: int | None
    target: int | None
    location: int | None
    day: date | None  # the event's date, else its article's publication day


@dataclass
class StoryEvent:
    type: str
    actor: int | None
    target: int | None
    first: date | None
    last: date | None
    members: list[ArticleEvent] = field(default_factory=list)

    @property
    def mentions(self) -> int:
        return len(self.members)

    @property
    def articles(self) -> int:
        return len({m.article for m in self.members})

    @property
    def sources(self) -> int:
        return len({m.source or m.article for m in self.members})

    @property
    def location(self) -> int | None:
        counts: dict[int, int] = defaultdict(int)
        for m in self.members:
            if m.location is not None:
                counts[m.location] += 1
        return min(counts, key=lambda x: (-counts[x], x)) if counts else None


def story_events(events: Iterable[ArticleEvent], days: int = 2) -> list[StoryEvent]:
    """Group article events; ordered by sources, mentions, then first day (the main event first)."""
    by_key: dict[tuple[str, int | None, int | None], list[ArticleEvent]] = defaultdict(list)
    for ev in events:
        if ev.actor is not None or ev.target is not None:
            by_key[(ev.type, ev.actor, ev.target)].append(ev)
    out: list[StoryEvent] = []
    for (type_, actor, target), evs in by_key.items():
        dated = sorted((e for e in evs if e.day is not None), key=lambda e: (e.day, e.id))
        undated = [e for e in evs if e.day is None]
        current: StoryEvent | None = None
        for e in dated:
            assert e.day is not None
            if current is None or current.last is None or (e.day - current.last).days > days:
                current = StoryEvent(type_, actor, target, e.day, e.day)
                out.append(current)
            current.members.append(e)
            current.last = e.day
        if undated:
            if current is None:
                current = StoryEvent(type_, actor, target, None, None)
                out.append(current)
            current.members.extend(undated)
    out.sort(key=lambda s: (-s.sources, -s.mentions, s.first or date.max, s.type, s.actor or 0, s.target or 0))
    return out
