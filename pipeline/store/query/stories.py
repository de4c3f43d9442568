"""``query stories`` and ``query story ID``: the same event across sources (bound parameters only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import article_entities, articles, entities, events, stories, story_events
from pipeline.store.query.filters import ANY_TIME, Period, iso, resolve_names
from pipeline.store.story_merges import resolve_story

STORY_COLUMNS = ["id", "first_seen", "last_seen", "articles", "sources", "country", "headline", "main_event",
                 "top_entities"]
ARTICLE_COLUMNS = ["id", "published", "source", "title", "main_event", "url"]
SOURCE_COLUMNS = ["source", "articles", "first_published"]
EVENT_COLUMNS = ["id", "type", "actor", "target", "location", "first_date", "last_date", "mentions", "articles",
                 "sources"]


class UnknownStory(LookupError):
    pass


def _names(conn: sa.Connection, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(conn.execute(sa.select(entities.c.id, entities.c.name).where(entities.c.id.in_(sorted(ids)))).all())


def _summary(actor: str | None, type_: str, target: str | None) -> str:
    return " ".join(x for x in (actor or "?", type_, target) if x)


def _main_events(conn: sa.Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    se = story_events.c
    rows = conn.execute(sa.select(se.id, se.type, se.actor_id, se.target_id).where(se.id.in_(ids))).all()
    names = _names(conn, {r.actor_id for r in rows} | {r.target_id for r in rows})
    return {r.id: _summary(names.get(r.actor_id), r.type, names.get(r.target_id)) for r in rows}


def search_stories(engine: Engine, *, period: Period = ANY_TIME, entity: str | None = None,
                   country: str | None = None, min_sources: int = 1, top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` largest stories seen in ``period`` (overlapping it), optionally about ``entity``."""
    s = stories.c
    q = sa.select(s.id, s.first_seen, s.last_seen, s.article_count, s.source_count, s.country,
                  s.headline_article_id, s.main_event_id, s.top_entities, articles.c.title) \
        .join(articles, articles.c.id == s.headline_article_id, isouter=True) \
        .where(s.source_count >= min_sources)
    if period.since is not None:
        q = q.where(s.last_seen >= period.since)
    if period.until is not None:
        q = q.where(s.first_seen <= period.until)
    if country is not None:
        q = q.where(s.country == country.strip().upper())
    q = q.order_by(s.article_count.desc(), s.source_count.desc(), s.last_seen.desc(), s.id).limit(top)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        if entity is not None:
            ids = [e["id"] for e in resolve_names(conn, entity)]
            having = sa.select(articles.c.story_id).join(article_entities,
                                                         article_entities.c.article_id == articles.c.id) \
                .where(article_entities.c.entity_id.in_(ids), articles.c.story_id.is_not(None))
            q = q.where(s.id.in_(having))
        found = conn.execute(q).all()
        mains = _main_events(conn, [r.main_event_id for r in found if r.main_event_id is not None])
    return [{"id": r.id, "first_seen": iso(r.first_seen), "last_seen": iso(r.last_seen),
             "articles": r.article_count, "sources": r.source_count, "country": r.country, "headline": r.title,
             "main_event": mains.get(r.main_event_id),
             "top_entities": ", ".join(e["name"] for e in r.top_entities or [])} for r in found]


def story_profile(engine: Engine, story_id: int) -> dict[str, Any]:
    """One story: its summary, articles, sources and story events (an old, merged id resolves)."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        sid = resolve_story(conn, story_id)
        if sid is None:
            raise UnknownStory(f"no story {story_id}")
        a, e, se = articles.c, events.c, story_events.c
        arts = conn.execute(sa.select(a.id, a.published, a.source, a.title, a.url, a.main_event_seq)
                            .where(a.story_id == sid).order_by(a.published, a.id)).all()
        mains = {}
        ids = [r.id for r in arts if r.main_event_seq is not None]
        if ids:
            mrows = conn.execute(sa.select(e.article_id, e.seq, e.type, e.actor_id, e.actor_text, e.target_id,
                                           e.target_text).where(e.article_id.in_(ids))).all()
            names = _names(conn, {r.actor_id for r in mrows} | {r.target_id for r in mrows})
            want = {(r.id, r.main_event_seq) for r in arts}
            for r in mrows:
                if (r.article_id, r.seq) in want:
                    mains[r.article_id] = _summary(names.get(r.actor_id, r.actor_text), r.type,
                                                   names.get(r.target_id, r.target_text))
        sources: dict[str, dict[str, Any]] = {}
        for art in arts:
            src = sources.setdefault(art.source or "", {"source": art.source, "articles": 0,
                                                        "first_published": art.published})
            src["articles"] += 1
        evrows = conn.execute(sa.select(se.id, se.type, se.actor_id, se.target_id, se.location_id,
                                        se.first_date, se.last_date, se.mentions, se.articles, se.sources)
                              .where(se.story_id == sid)
                              .order_by(se.sources.desc(), se.mentions.desc(), se.first_date, se.id)).all()
        names = _names(conn, {x for r in evrows for x in (r.actor_id, r.target_id, r.location_id)})
        srow = conn.execute(sa.select(stories).where(stories.c.id == sid)).mappings().one()
        main = _main_events(conn, [srow["main_event_id"]] if srow["main_event_id"] else [])
    story = {"id": sid, "asked": story_id, "first_seen": iso(srow["first_seen"]), "last_seen": iso(srow["last_seen"]),
             "articles": srow["article_count"], "sources": srow["source_count"], "country": srow["country"],
             "headline_article_id": srow["headline_article_id"], "main_event": main.get(srow["main_event_id"]),
             "top_entities": srow["top_entities"]}
    return {
        "story": story,
        "articles": [{"id": r.id, "published": r.published, "source": r.source, "title": r.title,
                      "main_event": mains.get(r.id), "url": r.url} for r in arts],
        "sources": sorted(sources.values(), key=lambda x: (-x["articles"], x["source"] or "")),
        "events": [{"id": r.id, "type": r.type, "actor": names.get(r.actor_id), "target": names.get(r.target_id),
                    "location": names.get(r.location_id), "first_date": iso(r.first_date),
                    "last_date": iso(r.last_date), "mentions": r.mentions, "articles": r.articles,
                    "sources": r.sources} for r in evrows],
    }
