"""Plain records the story functions take and return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class StoryConfig:
    """The settings of story assignment (``pipeline.config.Settings``: ``story_*``)."""

    window_days: int = 7  # candidates: stories with an article published within this many days
    threshold: float = 0.2  # a pair of articles scoring this or more is one event
    event_days: int = 2  # article events this close (same type, actor, target) are one story event
    max_df: int = 200  # an entity in more articles of the window is too common to look candidates up by
    max_candidates: int = 100  # candidate articles scored per article (most shared rarity first)


DEFAULT = StoryConfig()


@dataclass(frozen=True)
class EventFeatures:
    """One article-level event, by entity ids."""

    type: str
    actor: int | None
    target: int | None
    location: int | None = None
    day: date | None = None  # the event's date, else the article's publication day

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        return (self.type, self.actor, self.target)


@dataclass(frozen=True)
class ArticleFeatures:
    """What the score reads of one article: ids of canonical entities, events, places, words."""

    id: str
    published: str | None  # ISO 8601 as stored: orders articles (None last)
    day: date | None
    source: str | None = None
    entities: frozenset[int] = frozenset()
    events: tuple[EventFeatures, ...] = ()
    places: frozenset[str] = frozenset()  # countries (ISO alpha-2) and place keys
    words: frozenset[str] = frozenset()  # content words of the title and lead
    story: int | None = None  # the story it belongs to (None: not assigned yet)

    @property
    def order(self) -> tuple[str, str]:
        """(published, id): the order the merge rule and the headline use; undated last."""
        return (self.published or "\uffff", self.id)


@dataclass(frozen=True)
class StoryKey:
    """A story as the merge rule sees it: its id and its first article's (published, article id)."""

    id: int
    first: tuple[str, str]


@dataclass
class Weights:
    """Rarity of entities: ``df`` in the window (articles mentioning each), ``n`` articles in it."""

    df: dict[int, int] = field(default_factory=dict)
    n: int = 1
    cache: dict[int, float] = field(default_factory=dict, repr=False)  # entity -> idf squared
