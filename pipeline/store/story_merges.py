"""Merges of stories, recorded so that an old story id still resolves to the story it became.

A merge moves the old story's articles to the survivor, drops its story events and row, and
records ``old -> new`` in ``story_merges`` (every id that pointed to ``old`` now points to ``new``).
It is idempotent: merging a story that is already gone changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline.logs import get_logger
from pipeline.store.models import articles, stories, story_merges
from pipeline.store.models import story_events as s_events


def record_merge(conn: Connection, old: int, new: int, article_id: str | None) -> None:
    """``old`` resolves to ``new`` from now on, and so does every id that resolved to ``old``."""
    sm = story_merges.c
    conn.execute(story_merges.update().where(sm.new_id == old).values(new_id=new))
    conn.execute(story_merges.delete().where(sm.old_id == new))  # a story id coming back is itself again
    exists = conn.scalar(sa.select(sm.old_id).where(sm.old_id == old))
    if exists is None:
        conn.execute(story_merges.insert().values(old_id=old, new_id=new, article_id=article_id,
                                                  merged_at=datetime.now(timezone.utc)))
    else:
        conn.execute(story_merges.update().where(sm.old_id == old).values(new_id=new, article_id=article_id))


def merge_story(conn: Connection, old: int, new: int, *, article_id: str | None = None) -> bool:
    """Move ``old``'s articles to ``new``, record the merge, drop ``old``. Idempotent: False when ``old`` is gone."""
    if old == new:
        return False
    gone = conn.scalar(sa.select(stories.c.id).where(stories.c.id == old)) is None
    if gone:
        return False
    conn.execute(articles.update().where(articles.c.story_id == old).values(story_id=new))
    conn.execute(s_events.delete().where(s_events.c.story_id == old))
    conn.execute(stories.delete().where(stories.c.id == old))
    record_merge(conn, old, new, article_id)
    get_logger(room="stories").info("stories merged", **{"story_id": new, "merged": old, "article_id": article_id})
    return True


def resolve_story(conn: Connection, story_id: int) -> int | None:
    """The story an id stands for now (following recorded merges); None when there is none."""
    found = conn.scalar(sa.select(stories.c.id).where(stories.c.id == story_id))
    if found is not None:
        return int(found)
    new = conn.scalar(sa.select(story_merges.c.new_id).where(story_merges.c.old_id == story_id))
    if new is None:
        return None
    found = conn.scalar(sa.select(stories.c.id).where(stories.c.id == new))
    return int(found) if found is not None else None
