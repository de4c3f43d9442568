"""Story assignment in the writer's transaction: candidates, the decision, merges, story events.

:func:`assign_stories` runs inside ``write_batch``'s transaction, after the batch's articles,
mentions, counts and events are written, and takes the articles one by one in batch (arrival)
order: the candidates are the stored articles published within ``story_window_days`` of it
that share an entity with it (an entity in more than ``max_df`` articles of the window is too
common to look up by), the most promising ``max_candidates`` of them by shared rarity; the
decision is :func:`pipeline.stories.decide`'s, logged with its score and the features that
carried it. What the decisions read (entity counts, candidates, their features) is read for the
whole batch before the first one, in a few queries: assignment changes none of it.

Concurrency: the step takes a transaction-scoped lock first (PostgreSQL:
``pg_advisory_xact_lock``; SQLite: the writer's ``BEGIN IMMEDIATE`` already serializes), so two
workers assign stories one after the other, each seeing what the other committed: two articles
of one new event arriving at the same moment on two partitions end in one story. What could
still make two stories of one event (an edit by hand, a change of settings, an article that
links two stories) is merged by the rule of :mod:`pipeline.stories.merge`; merges are recorded
in ``story_merges`` (old id -> survivor, kept pointing at the current survivor) and are
idempotent: merging a story that is already gone changes nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline.logs import get_logger
from pipeline.store.bulk import update_by_key
from pipeline.store.chunks import chunks
from pipeline.store.models import article_entities, articles, entities, events, stories
from pipeline.store.models import story_events as s_events
from pipeline.store.story_merges import merge_story, record_merge, resolve_story
from pipeline.store.story_refresh import refresh_stories
from pipeline.stories import ArticleFeatures, Decision, EventFeatures, StoryConfig, decide
from pipeline.stories.main_event import EventText, main_event
from pipeline.stories.merge import resolve
from pipeline.stories.records import Weights
from pipeline.stories.score import Prepared, idf
from pipeline.stories.text import content_words


class _Log:
    """The structured logger, looked up at each call (the process configures logging after imports)."""

    def __getattr__(self, level: str) -> Any:
        return getattr(get_logger(room="stories"), level)


log = _Log()
__all__ = ["StoryStats", "assign_stories", "merge_story", "reassign_all", "record_merge", "resolve_story"]
LOCK_KEY = 0x6E657773  # pg_advisory_xact_lock key of story assignment ("news")
ID_BLOCK = 8  # story ids taken from the sequence at a time (PostgreSQL)
_config: StoryConfig | None = None


@dataclass
class StoryStats:
    assigned: int = 0
    new: int = 0
    joined: int = 0
    merges: int = 0
    seconds: float = 0.0
    decisions: list[Decision] = field(default_factory=list)
    sizes: dict[int, int] = field(default_factory=dict)  # story -> its articles after the commit (0: merged, gone)

    def add(self, other: StoryStats) -> None:
        """Count ``other`` (a committed transaction's assignment) in these."""
        for name in ("assigned", "new", "joined", "merges", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.decisions.extend(other.decisions)
        self.sizes.update(other.sizes)


def configure(cfg: StoryConfig | None) -> None:
    """Use ``cfg`` for story assignment in this process (None: the settings' ``story_*`` again)."""
    global _config
    _config = cfg


def config_from_settings(s: Any) -> StoryConfig:
    return StoryConfig(window_days=s.story_window_days, threshold=s.story_threshold,
                       event_days=s.story_event_days, max_df=s.story_max_df,
                       max_candidates=s.story_max_candidates)


def current_config() -> StoryConfig:
    global _config
    if _config is None:
        from pipeline.config import load_settings

        _config = config_from_settings(load_settings())
    return _config


def lock(conn: Connection) -> None:
    """Serialize story assignment across transactions (until this one ends)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))


def assign_stories(conn: Connection, article_ids: Sequence[str], stats: StoryStats | None = None,
                   cfg: StoryConfig | None = None) -> StoryStats:
    """Assign each article (in the order given) to a story, in the caller's transaction."""
    stats = stats if stats is not None else StoryStats()
    if not article_ids:
        return stats
    cfg = cfg or current_config()
    t0 = time.perf_counter()
    lock(conn)
    ctx = _Context(conn, cfg)
    previous = ctx.preload(article_ids)
    for aid in article_ids:
        d = ctx.assign(aid)
        if d is None:
            continue
        stats.assigned += 1
        stats.new += d.story is None
        stats.joined += d.story is not None
        stats.merges += len(d.merge)
        stats.decisions.append(d)
    ctx.write_decisions()
    moved = {old for aid, old in previous.items() if old is not None and ctx.story_of.get(aid) != old}
    ctx.refresh(ctx.touched | moved, moved_from={old: ctx.story_of.get(aid) for aid, old in previous.items()
                                                 if old in moved})
    stats.sizes.update(ctx.sizes)
    stats.seconds += time.perf_counter() - t0
    log.info("stories assigned", **{"articles": len(article_ids), "new": stats.new, "joined": stats.joined,
                                         "merges": stats.merges, "seconds": round(time.perf_counter() - t0, 4)})
    return stats


class _Context:
    """What one transaction's assignment reads and writes; in-memory state covers the batch."""

    def __init__(self, conn: Connection, cfg: StoryConfig) -> None:
        self.conn, self.cfg = conn, cfg
        self.firsts: dict[int, tuple[str, str]] = {}
        self.story_of: dict[str, int] = {}
        self.touched: set[int] = set()
        self.now = datetime.now(timezone.utc)
        self.df_cache: dict[date | None, dict[int, int]] = {}
        self.n_cache: dict[date | None, int] = {}
        self.feat_cache: dict[str, ArticleFeatures] = {}
        self.merged: dict[int, int] = {}
        self.sizes: dict[int, int] = {}  # story -> its articles once refreshed (0: merged or emptied)
        self.weights: dict[date | None, Weights] = {}
        self.prepared: dict[date | None, dict[str, Prepared]] = {}  # by day: each day has its weights
        self.tops: dict[str, list[str]] = {}
        self.names: dict[int, str] = {}
        self.main_seq: dict[str, int | None] = {}  # the batch's decisions, written by ``write_decisions``
        self.new_rows: list[dict[str, Any]] = []  # new stories not inserted yet (PostgreSQL: ``_new_story``)
        self.free_ids: list[int] = []  # story ids taken from the sequence, not used yet

    def write_decisions(self) -> None:
        """The batch's new stories, then its articles' stories and main events (``bulk.update_by_key``)."""
        self._insert_new_stories()
        update_by_key(self.conn, articles, "id", [{"id": aid, "story_id": self.story_of[aid], "main_event_seq": seq}
                                                  for aid, seq in self.main_seq.items()])

    def preload(self, ids: Sequence[str]) -> dict[str, int | None]:
        """Read the batch's own rows, entities and events at once; returns their stories before this."""
        self.rows = self._articles(ids)
        self.ents = self._entities(ids)
        self.evs = self._events(ids)
        self.texts = self._event_texts(ids)
        self._prefetch(ids)
        return {aid: r.story_id for aid, r in self.rows.items()}

    def _prefetch(self, ids: Sequence[str]) -> None:
        """What every decision of the batch reads, in a few queries rather than several per article.

        Assignment writes only ``articles.story_id`` and the story tables, so the window's entity
        counts, each article's candidates and their features are the same before the first decision
        as at each one; what the decisions change (the candidates' stories) is kept in memory."""
        days: dict[date | None, set[int]] = defaultdict(set)
        for aid in ids:
            if aid in self.rows:
                days[self.rows[aid].published_date] |= self.ents.get(aid, set())
        for day, ents in days.items():
            self._df(day, ents)
        self.tops = self._tops(ids)
        self._candidates(sorted({c for top in self.tops.values() for c in top}))
        cand_ents: dict[date | None, set[int]] = defaultdict(set)
        for aid, top in self.tops.items():
            cand_ents[self.rows[aid].published_date].update(
                e for c in top if c in self.feat_cache for e in self.feat_cache[c].entities)
        for day, ents in cand_ents.items():
            self._df(day, ents)
        self._load_firsts({f.story for f in self.feat_cache.values() if f.story is not None})
        self.names = self._names({e for ents in self.ents.values() for e in ents})

    def _tops(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Each article's candidates: stored articles of its window sharing its rare entities, the
        ``max_candidates`` sharing the most rarity first. The mentions are read as a stream (the
        batch's rare entities over its days' windows): only each article's tally is kept."""
        holders: dict[int, list[str]] = defaultdict(list)  # a rare entity -> the batch's articles with it
        for aid in ids:
            if aid in self.rows:
                df = self.df_cache[self.rows[aid].published_date]
                for e in self.ents.get(aid, set()):
                    if df.get(e, 0) <= self.cfg.max_df:
                        holders[e].append(aid)
        shared: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for eid, cid, pday in self._mentions(set(holders), {self.rows[a].published_date for h in holders.values()
                                                            for a in h}):
            for aid in holders[eid]:
                day = self.rows[aid].published_date
                if cid != aid and self._in_window(day, pday):
                    shared[aid][cid] += idf(eid, self._weights(day))
        return {aid: sorted(tally, key=lambda c: (-tally[c], c))[:self.cfg.max_candidates]
                for aid, tally in shared.items()}

    def _mentions(self, ents: set[int], days: set[date | None]) -> Iterator[tuple[int, str, date | None]]:
        """(entity, article, publication day) of the stored mentions of ``ents`` over the windows of ``days``."""
        ae = article_entities.c
        dated = [d for d in days if d is not None]
        w = timedelta(days=self.cfg.window_days)
        spans = ([ae.published_date.between(min(dated) - w, max(dated) + w)] if dated else []) \
            + ([ae.published_date.is_(None)] if None in days else [])
        if not spans:
            return
        for chunk in chunks(sorted(ents)):
            q = sa.select(ae.entity_id, ae.article_id, ae.published_date).where(ae.entity_id.in_(chunk),
                                                                                 sa.or_(*spans))
            yield from ((int(eid), str(cid), pday) for eid, cid, pday in self.conn.execute(q))

    def _in_window(self, day: date | None, other: date | None) -> bool:
        if day is None or other is None:
            return day is None and other is None
        return abs((other - day).days) <= self.cfg.window_days

    def _weights(self, day: date | None) -> Weights:
        """The rarity weights of the window around ``day`` (one per day: its counts never change here)."""
        if day not in self.weights:
            self.weights[day] = Weights(self.df_cache.setdefault(day, {}), self._n(day))
        return self.weights[day]

    def _names(self, ids: set[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in chunks(sorted(ids)):
            q = sa.select(entities.c.id, entities.c.name).where(entities.c.id.in_(chunk))
            out.update((int(i), str(n)) for i, n in self.conn.execute(q))
        return out

    # -- reading ----------------------------------------------------------------------------------
    def _articles(self, ids: Iterable[str], body: bool = True) -> dict[str, Any]:
        a = articles.c
        rows: dict[str, Any] = {}
        length = sa.func.length(a.body) if body else sa.literal(0)
        for chunk in chunks(ids):
            q = sa.select(a.id, a.published, a.published_date, a.source, a.title, a.lead, a.story_id,
                          a.country, length.label("body_length")).where(a.id.in_(chunk))
            rows.update((r.id, r) for r in self.conn.execute(q))
        return rows

    def _entities(self, ids: Iterable[str]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = defaultdict(set)
        for chunk in chunks(ids):
            q = sa.select(article_entities.c.article_id, article_entities.c.entity_id) \
                .where(article_entities.c.article_id.in_(chunk))
            for aid, eid in self.conn.execute(q):
                out[aid].add(eid)
        return out

    def _events(self, ids: Iterable[str]) -> dict[str, list[Any]]:
        e = events.c
        out: dict[str, list[Any]] = defaultdict(list)
        for chunk in chunks(ids):
            q = sa.select(e.article_id, e.seq, e.type, e.actor_id, e.target_id, e.location_id, e.date,
                          e.country).where(e.article_id.in_(chunk)).order_by(e.article_id, e.seq)
            for r in self.conn.execute(q):
                out[r.article_id].append(r)
        return out

    def _window(self, day: date | None) -> sa.ColumnElement[bool]:
        col = article_entities.c.published_date
        if day is None:
            return col.is_(None)
        w = timedelta(days=self.cfg.window_days)
        return col.between(day - w, day + w)

    def _features(self, row: Any, ents: set[int], evs: list[Any]) -> ArticleFeatures:
        day = row.published_date
        places = {e.country for e in evs if e.country} | ({row.country} if row.country else set())
        return ArticleFeatures(
            id=row.id, published=row.published, day=day, source=row.source, entities=frozenset(ents),
            events=tuple(EventFeatures(e.type, e.actor_id, e.target_id, e.location_id, e.date or day)
                         for e in evs),
            places=frozenset(places), words=content_words(row.title, row.lead), story=row.story_id)

    # -- one article ------------------------------------------------------------------------------
    def _df(self, day: date | None, ents: Iterable[int]) -> dict[int, int]:
        """Articles of the window around ``day`` mentioning each entity (cached for the transaction)."""
        cache = self.df_cache.setdefault(day, {})
        todo = sorted(e for e in ents if e not in cache)
        ae = article_entities.c
        for chunk in chunks(todo):
            q = sa.select(ae.entity_id, sa.func.count()).where(ae.entity_id.in_(chunk), self._window(day)) \
                .group_by(ae.entity_id)
            found: dict[int, int] = {int(k): int(v) for k, v in self.conn.execute(q)}
            cache.update((e, found.get(e, 0)) for e in chunk)
        return cache

    def _n(self, day: date | None) -> int:
        if day not in self.n_cache:
            q = sa.select(sa.func.count()).select_from(articles).where(self._article_window(day))
            self.n_cache[day] = int(self.conn.scalar(q) or 1)
        return self.n_cache[day]

    def _candidates(self, ids: list[str]) -> list[ArticleFeatures]:
        """Features of stored articles (cached for the transaction; their story as of now)."""
        todo = [i for i in ids if i not in self.feat_cache]
        if todo:
            rows = self._articles(todo, body=False)
            ents, evs = self._entities(rows), self._events(rows)
            for cid, r in rows.items():
                self.feat_cache[cid] = self._features(r, ents.get(cid, set()), evs.get(cid, []))
        out = []
        for cid in ids:
            f = self.feat_cache.get(cid)
            if f is None:
                continue
            story = self.story_of.get(cid, f.story)
            story = resolve(story, self.merged) if story is not None else None
            if story is not None:
                out.append(f if story == f.story else replace(f, story=story))
        return out

    def assign(self, aid: str) -> Decision | None:
        row = self.rows.get(aid)
        if row is None:
            return None
        ents = self.ents.get(aid, set())
        evs = self.evs.get(aid, [])
        art = self._features(row, ents, evs)
        cands: list[ArticleFeatures] = []
        weights = Weights({}, 1)
        if ents:
            weights = self._weights(art.day)
            cands = self._candidates(self.tops.get(aid, []))
            if cands:  # read by the prefetch already: these find everything cached
                self._df(art.day, {e for c in cands for e in c.entities})
                self._load_firsts({c.story for c in cands if c.story is not None})
        d = decide(art, cands, weights, self.firsts, self.cfg, prepared=self.prepared.setdefault(art.day, {}))
        self._apply(art, d, self._main_event(row, evs))
        self._log(art, d, self.names)
        self.feat_cache[art.id] = replace(art, story=self.story_of[art.id])
        return d

    def _article_window(self, day: date | None) -> sa.ColumnElement[bool]:
        col = articles.c.published_date
        if day is None:
            return col.is_(None)
        w = timedelta(days=self.cfg.window_days)
        return col.between(day - w, day + w)

    def _main_event(self, row: Any, evs: list[Any]) -> int | None:
        return main_event(row.title, row.lead, self.texts.get(row.id, []), row.body_length or 1) if evs else None

    def _event_texts(self, ids: Iterable[str]) -> dict[str, list[EventText]]:
        e = events.c
        out: dict[str, list[EventText]] = defaultdict(list)
        for chunk in chunks(ids):
            q = sa.select(e.article_id, e.seq, e.type, e.actor_text, e.target_text, e.sentence, e.trigger_start,
                          e.modality, e.negated).where(e.article_id.in_(chunk))
            for r in self.conn.execute(q):
                out[r.article_id].append(EventText(r.seq, r.type, r.actor_text, r.target_text, r.sentence or "",
                                                   r.trigger_start, r.modality, bool(r.negated)))
        return out

    def _load_firsts(self, ids: set[int]) -> None:
        todo = sorted(i for i in ids if i not in self.firsts)
        for chunk in chunks(todo):
            q = sa.select(stories.c.id, stories.c.first_published, stories.c.headline_article_id) \
                .where(stories.c.id.in_(chunk))
            for sid, pub, head in self.conn.execute(q):
                self.firsts[sid] = (pub or "\uffff", head)

    # -- writing ----------------------------------------------------------------------------------
    def _apply(self, art: ArticleFeatures, d: Decision, main_seq: int | None) -> None:
        conn = self.conn
        if d.story is None:
            sid = self._new_story(art)
            self.firsts[sid] = art.order
        else:
            sid = d.story
            if d.merge:
                self._insert_new_stories()  # a story made earlier in the batch may be merged
            for old in d.merge:
                merge_story(conn, old, sid, article_id=art.id)
                self.merged[old] = sid
                self.sizes[old] = 0
                self.firsts[sid] = min(self.firsts.get(sid, art.order), self.firsts.pop(old, art.order))
                self.touched.discard(old)
                for k, v in list(self.story_of.items()):
                    if v == old:
                        self.story_of[k] = sid
            self.firsts[sid] = min(self.firsts.get(sid, art.order), art.order)
        self.main_seq[art.id] = main_seq
        self.story_of[art.id] = sid
        self.touched.add(sid)

    def _new_story(self, art: ArticleFeatures) -> int:
        """A new story's id. On PostgreSQL its row waits for ``_insert_new_stories`` (one executemany,
        not one INSERT ... RETURNING per story), its id taken from the table's sequence, ``ID_BLOCK``
        at a time: ids a batch does not use are skipped, as a rolled-back transaction skips them."""
        row: dict[str, Any] = {
            "first_published": art.published, "first_seen": art.day, "last_seen": art.day, "article_count": 1,
            "source_count": 1, "headline_article_id": art.id, "top_entities": [], "created_at": self.now,
            "updated_at": self.now}
        if self.conn.dialect.name != "postgresql":  # in process: one statement costs little
            return int(self.conn.execute(stories.insert().values(**row).returning(stories.c.id)).scalar_one())
        if not self.free_ids:
            sequence = sa.func.pg_get_serial_sequence(stories.name, stories.c.id.name)
            self.free_ids = sorted(int(i) for i in self.conn.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, ID_BLOCK))))
        sid = self.free_ids.pop(0)
        self.new_rows.append({"id": sid, **row})
        return sid

    def _insert_new_stories(self) -> None:
        if self.new_rows:
            self.conn.execute(stories.insert(), self.new_rows)
            self.new_rows = []

    def _log(self, art: ArticleFeatures, d: Decision, names: dict[int, str]) -> None:
        m = d.match
        carried = [names.get(int(x), x) if x.isdigit() else x for x in (m.shared if m else ())]
        log.info("story decision", **{
            "article_id": art.id, "story_id": self.story_of.get(art.id), "action": d.action, "score": d.score,
            "threshold": self.cfg.threshold, "best_article": d.best, "features": m.parts if m else {},
            "shared": carried, "merged": list(d.merge)})

    def refresh(self, ids: set[int], moved_from: dict[int, int | None] | None = None) -> None:
        self.sizes.update(refresh_stories(self.conn, ids, self.cfg, self.now))
        for sid in sorted(ids):
            if not self.sizes[sid] and moved_from and sid in moved_from:
                target = moved_from[sid]
                if target is not None and target != sid:  # emptied by a reassignment: the old id resolves on
                    record_merge(self.conn, sid, target, None)


def reassign_all(conn: Connection, cfg: StoryConfig | None = None, *, chunk: int = 500) -> StoryStats:
    """Reassign every stored article, in publication order, after a change of settings (one transaction).

    Old story ids resolve to the new story of their headline article.
    """
    cfg = cfg or current_config()
    lock(conn)
    a = articles.c
    old_heads = dict(conn.execute(sa.select(stories.c.id, stories.c.headline_article_id)).all())
    conn.execute(events.update().where(events.c.story_event_id.is_not(None)).values(story_event_id=None))
    conn.execute(articles.update().where(a.story_id.is_not(None)).values(story_id=None))
    conn.execute(s_events.delete())
    conn.execute(stories.delete())
    ids = [r[0] for r in conn.execute(sa.select(a.id).order_by(sa.case((a.published.is_(None), 1), else_=0),
                                                               a.published, a.id))]
    stats = StoryStats()
    for part in chunks(ids, chunk):
        assign_stories(conn, part, stats, cfg)
        stats.decisions.clear()
        stats.sizes.clear()
    for old, head in old_heads.items():
        new = conn.scalar(sa.select(a.story_id).where(a.id == head))
        if new is not None and new != old:
            record_merge(conn, old, int(new), head)
    return stats
