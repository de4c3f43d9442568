"""The merge rule: which story survives when two stories turn out to be one event.

The survivor is the story whose first article has the smallest (published, article id); ties
(never for distinct stories) fall to the smaller story id. The rule reads the stories' content
only, so every arrival order, and every interleaving of two workers, picks the same survivor.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.stories.records import StoryKey


def survivor(stories: Iterable[StoryKey]) -> StoryKey:
    """The story the others merge into."""
    return min(stories, key=lambda s: (s.first, s.id))


def resolve(story: int, merged_into: dict[int, int]) -> int:
    """Follow recorded merges (old id -> new id) to the story that holds an old id now."""
    seen = set()
    while story in merged_into and story not in seen:
        seen.add(story)
        story = merged_into[story]
    return story
