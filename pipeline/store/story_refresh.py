"""A story's summary and story events, recomputed from its articles: a chunk of stories per query.

The writer refreshes every story a batch touched (one article joins, a merge, a reassignment).
Reading each story's articles, top entities and events per story cost 7 statements a story;
here the reads are one query each per chunk of stories, and the writes one executemany each.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline.store.bulk import update_by_key
from pipeline.store.chunks import chunks
from pipeline.store.models import article_entities, articles, entities, events, stories
from pipeline.store.models import story_events as s_events
from pipeline.stories import StoryConfig
from pipeline.stories.events import ArticleEvent, story_events

TOP_ENTITIES = 5


def refresh_stories(conn: Connection, ids: Iterable[int], cfg: StoryConfig, now: datetime) -> dict[int, int]:
    """Recompute the stories' summaries and story events; returns each story's article count (0, and
    the story deleted, when it has none)."""
    sizes: dict[int, int] = {}
    for chunk in chunks(sorted(set(ids))):
        conn.execute(s_events.delete().where(s_events.c.story_id.in_(chunk)))  # before the events are read
        rows, top, evrows = _articles_of(conn, chunk), _top_entities(conn, chunk), _events_of(conn, chunk)
        gone = [sid for sid in chunk if not rows.get(sid)]
        if gone:
            conn.execute(stories.delete().where(stories.c.id.in_(gone)))
        new_rows: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for sid in chunk:
            sizes[sid] = len(rows.get(sid, []))
            if sizes[sid]:
                main_id = _story_events(sid, rows[sid], evrows.get(sid, []), cfg, new_rows, changed)
                updates.append(_summary(sid, rows[sid], top.get(sid, []), main_id, now))
        _write(conn, new_rows, changed, updates)
    return sizes


def _articles_of(conn: Connection, chunk: list[int]) -> dict[int, list[Any]]:
    a = articles.c
    out: dict[int, list[Any]] = defaultdict(list)
    for r in conn.execute(sa.select(a.story_id, a.id, a.published, a.published_date, a.source, a.country,
                                    a.main_event_seq).where(a.story_id.in_(chunk))):
        out[r.story_id].append(r)
    return out


def _top_entities(conn: Connection, chunk: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The most frequent entities of each story (by articles, then id), as the summary keeps them."""
    a, ae, en = articles.c, article_entities.c, entities.c
    q = (sa.select(a.story_id, ae.entity_id, en.name, en.label, sa.func.count().label("n"))
         .join(articles, a.id == ae.article_id).join(entities, en.id == ae.entity_id)
         .where(a.story_id.in_(chunk)).group_by(a.story_id, ae.entity_id, en.name, en.label))
    counted: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
    for sid, eid, name, label, n in conn.execute(q):
        counted[sid].append((-int(n), eid, name, label))
    return {sid: [{"id": eid, "name": name, "label": label, "articles": -neg}
                  for neg, eid, name, label in sorted(found)[:TOP_ENTITIES]]
            for sid, found in counted.items()}


def _events_of(conn: Connection, chunk: list[int]) -> dict[int, list[Any]]:
    a, e = articles.c, events.c
    q = (sa.select(a.story_id, e.id, e.article_id, e.seq, e.type, e.actor_id, e.target_id, e.location_id, e.date,
                   e.story_event_id, a.published_date, a.source)
         .join(articles, a.id == e.article_id).where(a.story_id.in_(chunk)))
    out: dict[int, list[Any]] = defaultdict(list)
    for r in conn.execute(q):
        out[r.story_id].append(r)
    return out


def _story_events(sid: int, rows: list[Any], evrows: list[Any], cfg: StoryConfig,
                  new_rows: list[dict[str, Any]], changed: list[dict[str, Any]]) -> int | None:
    """Adds the story's event groups to ``new_rows`` and the moves of its events to ``changed``;
    returns the main story event's id (the group holding the most main events, then sources, mentions)."""
    groups = story_events([ArticleEvent(r.id, r.article_id, r.source, r.type, r.actor_id, r.target_id,
                                        r.location_id, r.date or r.published_date) for r in evrows],
                          days=cfg.event_days)
    main_of = {(r.id, r.main_event_seq) for r in rows if r.main_event_seq is not None}
    seq_of = {r.id: (r.article_id, r.seq) for r in evrows}
    current = {r.id: r.story_event_id for r in evrows}
    main_id = None
    best: tuple[int, int, int] | None = None
    for g in groups:
        seid = min(m.id for m in g.members)  # the id of its first event row: stable, no RETURNING needed
        new_rows.append({"id": seid, "story_id": sid, "type": g.type, "actor_id": g.actor, "target_id": g.target,
                         "location_id": g.location, "first_date": g.first, "last_date": g.last,
                         "mentions": g.mentions, "articles": g.articles, "sources": g.sources})
        rank = (sum(1 for m in g.members if seq_of[m.id] in main_of), g.sources, g.mentions)
        if best is None or rank > best:
            best, main_id = rank, seid
        changed.extend({"eid": m.id, "seid": seid} for m in g.members if current.get(m.id) != seid)
    return main_id


def _summary(sid: int, rows: list[Any], top: list[dict[str, Any]], main_id: int | None,
             now: datetime) -> dict[str, Any]:
    first = min(rows, key=lambda r: ((r.published or "\uffff"), r.id))
    days = [r.published_date for r in rows if r.published_date is not None]
    countries = Counter(r.country for r in rows if r.country)
    return {"sid": sid, "first_published": first.published, "first_seen": min(days) if days else None,
            "last_seen": max(days) if days else None, "article_count": len(rows),
            "source_count": len({r.source or r.id for r in rows}), "headline_article_id": first.id,
            "main_event_id": main_id, "top_entities": top,
            "country": min(countries, key=lambda c: (-countries[c], c)) if countries else None, "updated_at": now}


def _write(conn: Connection, new_rows: list[dict[str, Any]], changed: list[dict[str, Any]],
           updates: list[dict[str, Any]]) -> None:
    if new_rows:
        conn.execute(s_events.insert(), new_rows)
    update_by_key(conn, events, "id", [{"id": c["eid"], "story_event_id": c["seid"]} for c in changed])
    update_by_key(conn, stories, "id", [{"id": u["sid"], **{k: v for k, v in u.items() if k != "sid"}}
                                         for u in updates])
