"""``query articles``: articles by entity, source, section, publication date and text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.errors import NewsstreamError
from pipeline.store.db import translate_errors
from pipeline.store.models import articles, entities, events, mentions, stories
from pipeline.store.query.events import events_select
from pipeline.store.query.filters import ANY_TIME, Period, contains, entity_ids, iso, newest
from pipeline.store.story_merges import resolve_story

WINDOWS = (7,)  # text search looks in the newest 7 days of the period before the whole period
ARTICLE_COLUMNS = ["published", "source", "section", "title", "id", "url", "country"]
SHORT_ID = 8  # tables show ids this long, longer where another stored id shares the prefix (as git does)
MIN_PREFIX = 6  # the shortest prefix ``article_detail`` accepts
CANDIDATES = 10  # an ambiguous prefix lists at most this many ids
DETAIL_FIELDS = ["id", "title", "published", "source", "section", "authors", "url", "language", "dateline",
                 "country", "story_id", "extractor_version"]


class UnknownArticle(NewsstreamError):
    """No article has that id, nor an id starting with it."""


class AmbiguousArticle(NewsstreamError):
    """An id prefix that several articles share: ``candidates`` holds some of them."""

    def __init__(self, prefix: str, candidates: list[dict[str, Any]], more: bool) -> None:
        self.prefix, self.candidates = prefix, candidates
        lines = [f"  {c['id']}  {c['published'] or 'undated'}  {c['title'] or ''}".rstrip() for c in candidates]
        super().__init__(f"the id prefix {prefix!r} is ambiguous, it starts {'more than ' if more else ''}"
                         f"{len(candidates)} article ids (give more characters):\n" + "\n".join(lines))


def _starts_with(column: Any, prefix: str) -> Any:
    """``column`` starts with ``prefix``, exactly (case and all), as a bound parameter: no LIKE wildcards."""
    return sa.func.substr(column, 1, len(prefix)) == prefix


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def abbreviations(engine: Engine, ids: list[str], min_len: int = SHORT_ID) -> dict[str, str]:
    """The shortest prefix of each id, at least ``min_len`` long, that no other stored article id starts with.

    One query: the stored ids that share the first ``min_len`` characters with one of ``ids``.
    An id that is itself the start of another one stays whole (``article_detail`` takes it exactly).
    """
    out = {i: i for i in ids if i}
    wanted = {i for i in out if len(i) > min_len}
    if not wanted:
        return out
    prefixes = sorted({i[:min_len] for i in wanted})
    q = sa.select(articles.c.id).where(sa.func.substr(articles.c.id, 1, min_len).in_(prefixes))
    with translate_errors(str(engine.url)), engine.connect() as conn:
        near = set(conn.scalars(q)) | wanted
    by_prefix: dict[str, list[str]] = {}
    for other in near:
        by_prefix.setdefault(other[:min_len], []).append(other)
    for i in wanted:
        n = max([min_len, *(_common_prefix(i, o) + 1 for o in by_prefix[i[:min_len]] if o != i)])
        out[i] = i[:n]
    return out


def find_article(conn: sa.Connection, ref: str) -> str:
    """The id of the article ``ref`` names: its whole id, or a prefix of at least MIN_PREFIX characters
    that one article id alone starts with. Raises UnknownArticle, AmbiguousArticle."""
    ref = ref.strip()
    a = articles.c
    if ref and conn.scalar(sa.select(a.id).where(a.id == ref)) is not None:
        return ref
    if len(ref) < MIN_PREFIX:
        raise UnknownArticle(f"no article has the id {ref!r} (a prefix needs at least {MIN_PREFIX} characters)")
    q = (sa.select(a.id, a.published_date.label("published"), a.title).where(_starts_with(a.id, ref))
         .order_by(a.id).limit(CANDIDATES + 1))
    found = [{k: iso(v) for k, v in r.items()} for r in conn.execute(q).mappings()]
    if not found:
        raise UnknownArticle(f"no article id starts with {ref!r} (try `newsstream query articles`)")
    if len(found) > 1:
        raise AmbiguousArticle(ref, found[:CANDIDATES], more=len(found) > CANDIDATES)
    return str(found[0]["id"])


def article_detail(engine: Engine, ref: str) -> dict[str, Any]:
    """One article by id or unique id prefix: its fields, its entities with their mentions, its events
    (in text order, with their sentences), and its story.

    ``{"article": {DETAIL_FIELDS...}, "entities": [{"id", "name", "label", "mentions", "texts", "spans":
    [{"field", "start", "end", "text"}]}], "events": [event rows], "story": {"id", "articles", "sources",
    "first_seen", "last_seen", "country", "headline"} | None}``; entities most mentioned first.
    Raises UnknownArticle, AmbiguousArticle.
    """
    a, m, en = articles.c, mentions.c, entities.c
    with translate_errors(str(engine.url)), engine.connect() as conn:
        aid = find_article(conn, ref)
        art = conn.execute(sa.select(*(getattr(a, f) for f in DETAIL_FIELDS)).where(a.id == aid)).mappings().one()
        spans = conn.execute(sa.select(en.id, en.name, en.label, m.field, m.start, m.end, m.text)
                             .join(entities, en.id == m.entity_id).where(m.article_id == aid)
                             .order_by(m.field, m.start)).all()
        evs = [{k: iso(v) for k, v in r.items()} for r in
               conn.execute(events_select().where(events.c.article_id == aid).order_by(events.c.seq)).mappings()]
        story = None
        sid = resolve_story(conn, art["story_id"]) if art["story_id"] is not None else None
        if sid is not None:
            st, head = stories.c, articles.alias("head")
            row = conn.execute(sa.select(st.id, st.article_count, st.source_count, st.first_seen, st.last_seen,
                                         st.country, head.c.title)
                               .outerjoin(head, head.c.id == st.headline_article_id).where(st.id == sid)).one()
            story = {"id": row.id, "articles": row.article_count, "sources": row.source_count,
                     "first_seen": iso(row.first_seen), "last_seen": iso(row.last_seen), "country": row.country,
                     "headline": row.title}
    found: dict[int, dict[str, Any]] = {}
    for r in spans:
        e = found.setdefault(r.id, {"id": r.id, "name": r.name, "label": r.label, "mentions": 0, "texts": [],
                                    "spans": []})
        e["mentions"] += 1
        if r.text not in e["texts"]:
            e["texts"].append(r.text)
        e["spans"].append({"field": r.field, "start": r.start, "end": r.end, "text": r.text})
    ents = sorted(found.values(), key=lambda e: (-e["mentions"], e["name"], e["label"]))
    return {"article": {**dict(art), "story_id": sid if sid is not None else art["story_id"]}, "entities": ents,
            "events": evs, "story": story}


def search_articles(engine: Engine, *, entity: str | None = None, label: str | None = None,
                    source: str | None = None, section: str | None = None, period: Period = ANY_TIME,
                    text: str | None = None, country: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest articles matching every filter given (all optional, combined with AND).

    * ``entity``: mentions the entity (alias, case-insensitive; ``label`` narrows it);
    * ``source``: the publisher, exactly as stored; ``section``: case-insensitive substring;
    * ``text``: case-insensitive substring of the title or the body;
    * ``country``: where its news happens, ISO 3166 alpha-2 (any case).

    Rows ``{"published", "source", "section", "title", "id", "url"}``, newest first
    (``published`` is the publication date, ``YYYY-MM-DD``). Raises UnknownEntity.
    """
    a = articles.c
    q = sa.select(a.published_date.label("published"), a.source, a.section, a.title, a.id, a.url, a.country)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        if entity is not None:
            ids = entity_ids(conn, entity, label)
            q = q.where(sa.exists().where(mentions.c.article_id == a.id, mentions.c.entity_id.in_(ids)))
        if source is not None:
            q = q.where(a.source == source)
        if country is not None:
            q = q.where(a.country == country.strip().upper())
        if section is not None:
            q = q.where(contains(conn, a.section, section))
        if text is not None:
            q = q.where(sa.or_(contains(conn, a.title, text), contains(conn, a.body, text)))
        if text is not None and entity is None:  # common words: the newest days hold enough matches
            for days in WINDOWS:
                rows = _in_recent_days(conn, q, period, days, limit)
                if rows is not None:
                    return rows
        return newest(conn, q.where(*period.where()), a.published_date, [a.id], limit)


def _in_recent_days(conn: sa.Connection, q: sa.Select[Any], period: Period, days: int,
                    limit: int) -> list[dict[str, Any]] | None:
    """The answer when the ``days`` newest days of ``period`` hold ``limit`` matches, else None.

    Every row outside that window is older than every row inside, so those rows are the newest.
    """
    newest_day = conn.scalar(sa.select(sa.func.max(articles.c.published_date)).where(*period.where()))
    if newest_day is None:
        return None
    start = newest_day - timedelta(days=days - 1)
    if period.since is not None and start <= period.since:
        return None  # the window is the whole period: one ordinary query
    rows = newest(conn, q.where(*Period(start, period.until).where()), articles.c.published_date,
                  [articles.c.id], limit)
    return rows if len(rows) >= limit else None
