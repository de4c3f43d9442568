"""Write extraction results to SQL: one transaction per batch, idempotent, entities resolved by alias.

* Writing the same article again with the same extraction changes nothing (its content hash
  matches: the item is skipped). A different extraction (re-extraction, new extractor
  version) replaces the article's mentions and events inside the same transaction.
* Entities are upserted by (name, label); an entity whose name is already a known alias
  of an entity with the same label ("Lukashenko" -> "Alexander Lukashenko") maps to it.
  Every mention's surface form and the canonical name become aliases (first writer wins).
* An item that cannot be stored (bad offsets, unknown modality, NUL characters, a value too large
  for an index...) is not written and is returned in ``WriteStats.rejected``; the rest of the
  batch is written. Data the database itself refuses is found by halving the batch.
  The same article twice in one batch: the later item wins.
* The counts derived from the mentions stay exact in the same transaction: the written
  articles' ``article_entities`` rows are replaced, and ``entity_stats`` changes by the
  difference (one upsert, entities in id order so that concurrent writers lock them in the
  same order and cannot deadlock).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from pipeline import reasons
from pipeline.article import STORED_FIELDS, Article
from pipeline.errors import ConfigError
from pipeline.records import Extraction, Position, Refusal, Span
from pipeline.store.chunks import chunks
from pipeline.store.counts import fill_article_entities
from pipeline.store.db import IMMEDIATE, RefusedByDatabase, translate_errors
from pipeline.store.entities import (
    identity,
    identity_key,
    merge_same_keys,
    merge_surnames,
    record_labels,
    update_labels,
)
from pipeline.store.models import (
    article_entities,
    articles,
    entities,
    entity_aliases,
    entity_forms,
    entity_merges,
    entity_stats,
    events,
    mentions,
)
from pipeline.store.normalize import alias_key, clean_name, content_hash, parse_date, problem
from pipeline.store.places import write_places
from pipeline.store.stories import StoryStats, assign_stories

log = logging.getLogger(__name__)


@dataclass
class WriteStats:
    articles: int = 0  # articles inserted or replaced
    unchanged: int = 0  # identical to what is stored: skipped
    entities_new: int = 0
    mentions: int = 0
    events: int = 0
    rejected: list[Refusal] = field(default_factory=list)  # code store_rejected, index set
    stories: StoryStats = field(default_factory=StoryStats)  # story assignment (pipeline.store.stories)


@dataclass
class _Item:
    index: int
    article: Article
    extraction: Extraction
    position: Position | None
    hash: str
    entity_ids: list[int] = field(default_factory=list)  # one per extraction entity, once resolved


def _refusal(index: int, article_id: str | None, why: str, position: Position | None) -> Refusal:
    """An item of the batch that is not stored, named by its position, else its article, else its index."""
    origin = position.origin if isinstance(position, Position) else (
        f"article {article_id}" if article_id else f"batch item {index}")
    return Refusal(origin, reasons.STORE_REJECTED, why, index=index, article_id=article_id, position=position)


def prepare() -> None:
    """Load now what a process's first ``write_batch`` would load: the gazetteer that keys entities
    named like a country (1.4 s and more, the first batches' latency otherwise)."""
    from pipeline.geo import default_gazetteer

    default_gazetteer()


def write_batch(engine: Engine, items: Sequence[tuple[Article, Extraction, Position | None]], *,
                extractor_version: str) -> WriteStats:
    """Write a batch in ONE transaction; see the module docstring for the rules."""
    stats = WriteStats()
    latest: dict[str, _Item] = {}
    for i, item in enumerate(items):
        try:
            article, extraction, position = item
        except (TypeError, ValueError):
            stats.rejected.append(_refusal(i, None, "expected (article, extraction, position)", None))
            continue
        why = problem(article, extraction)
        if why:
            art_id = getattr(article, "id", None)
            stats.rejected.append(_refusal(i, art_id, why, position))
            log.warning("article not stored: %s", why, extra={"article_id": art_id, "position": position})
            continue
        latest.pop(article.id, None)  # the later copy wins (and keeps batch order)
        latest[article.id] = _Item(i, article, extraction, position,
                                   content_hash(article, extraction, extractor_version))
    if latest:
        _transaction(engine, list(latest.values()), stats, extractor_version)
    return stats


def _transaction(engine: Engine, items: list[_Item], stats: WriteStats, version: str) -> None:
    """Write ``items`` in one transaction. When the database refuses an item's data (a value over an
    index's size limit...), halve the batch until that item is alone: it is refused with the
    database's reason, every other item is written (each part in its own transaction)."""
    done = WriteStats()
    try:
        with translate_errors(str(engine.url)), engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                _write(conn, items, done, version)
    except RefusedByDatabase as exc:
        if len(items) > 1:
            half = len(items) // 2
            _transaction(engine, items[:half], stats, version)
            _transaction(engine, items[half:], stats, version)
            return
        it = items[0]
        why = f"refused by the database: {exc.reason}"
        stats.rejected.append(_refusal(it.index, it.article.id, why, it.position))
        log.warning("article not stored: %s", why, extra={"article_id": it.article.id, "position": it.position})
        return
    for name in ("articles", "unchanged", "entities_new", "mentions", "events"):
        setattr(stats, name, getattr(stats, name) + getattr(done, name))
    stats.stories.add(done.stories)


def _insert(conn: Connection, table: sa.Table) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    name = conn.dialect.name
    if name not in ("postgresql", "sqlite"):
        raise ConfigError(f"unsupported database {name!r}: use SQLite or PostgreSQL")
    return (postgresql if name == "postgresql" else sqlite).insert(table)


def _write(conn: Connection, items: list[_Item], stats: WriteStats, version: str) -> None:
    stored: dict[str, str] = {}
    for ids in chunks(it.article.id for it in items):
        stored.update(conn.execute(sa.select(articles.c.id, articles.c.content_hash)
                                   .where(articles.c.id.in_(ids))).all())
    todo = [it for it in items if stored.get(it.article.id) != it.hash]
    stats.unchanged += len(items) - len(todo)
    if not todo:
        return
    keys = _resolve_entities(conn, todo, stats)
    now = datetime.now(timezone.utc)
    _upsert_articles(conn, todo, version, now)  # from here on, another writer of these articles waits
    for ids in chunks(sorted(it.article.id for it in todo)):
        conn.execute(mentions.delete().where(mentions.c.article_id.in_(ids)))
        conn.execute(events.delete().where(events.c.article_id.in_(ids)))
    mention_rows, event_rows = [], []
    for it in todo:
        mention_rows.extend(_mention_rows(it, it.entity_ids))
        event_rows.extend(_event_rows(it, it.entity_ids))
    if mention_rows:
        conn.execute(mentions.insert(), mention_rows)
    if event_rows:
        conn.execute(events.insert(), event_rows)
    _update_counts(conn, todo)
    _settle_entities(conn, todo, keys)  # label votes, merges after the fact, consensus labels
    write_places(conn, lambda t: _insert(conn, t), [it.article.id for it in todo], _place_links(todo), chunks)
    assign_stories(conn, [it.article.id for it in todo], stats.stories)  # in batch (arrival) order
    stats.articles += len(todo)
    stats.mentions += len(mention_rows)
    stats.events += len(event_rows)


_Target = int | tuple[str, str]  # a stored entity's id, or the (name, label) of an entity new in the batch


def _resolve_entities(conn: Connection, items: list[_Item], stats: WriteStats) -> set[str]:
    """Set ``item.entity_ids`` (one per extraction entity); insert new entities, aliases and forms.

    An entity is found by its identity key (``pipeline.store.entities``), else, as before 0008, by a
    known alias of the same label; the keys of the batch are returned. Entities that share a key
    are merged first (rows stored before 0008).
    """
    ident = {(e.name, e.label): identity(clean_name(e.name), e.label.strip())
             for it in items for e in it.extraction.entities}
    batch_keys = {k for k, _shown in ident.values()}
    merge_same_keys(conn, batch_keys, items[0].article.id if items else None)
    by_key = _ids_by_key(conn, batch_keys)
    known = _known_aliases(conn, items)
    stored = set(known)
    targets, new, forms = _targets(items, ident, by_key, known)  # adds the batch's aliases to ``known``
    ids = _insert_entities(conn, new, stats)

    def entity_id(target: _Target) -> int:
        return ids[target] if isinstance(target, tuple) else target

    _insert_aliases(conn, sorted((lab, a, entity_id(t)) for (a, lab), t in known.items() if (a, lab) not in stored))
    _insert_forms(conn, sorted({(k, entity_id(t)) for k, t in forms if k}))
    for it in items:
        it.entity_ids = [entity_id(t) for t in targets[it.index]]
    return batch_keys


def _ids_by_key(conn: Connection, keys: set[str]) -> dict[str, int]:
    """The stored entity of each identity key (the oldest, when several share one)."""
    by_key: dict[str, int] = {}
    for chunk in chunks(sorted(keys)):
        for eid, key in conn.execute(sa.select(entities.c.id, entities.c.key).where(entities.c.key.in_(chunk))
                                     .order_by(entities.c.id.desc())):
            by_key[key] = eid
    return by_key


def _known_aliases(conn: Connection, items: list[_Item]) -> dict[tuple[str, str], _Target]:
    """(alias, label) -> entity id of the stored aliases among the batch's names and mention texts."""
    keys = {alias_key(x) for it in items for e in it.extraction.entities
            for x in [e.name, *(m.text for m in e.mentions)]} - {""}
    known: dict[tuple[str, str], _Target] = {}
    for chunk in chunks(sorted(keys)):
        ea = entity_aliases.c
        rows = conn.execute(sa.select(ea.alias, ea.label, ea.entity_id).where(ea.alias.in_(chunk)))
        known.update(((a, lab), eid) for a, lab, eid in rows)
    return known


def _targets(items: list[_Item], ident: dict[tuple[str, str], tuple[str, str]], by_key: dict[str, int],
             known: dict[tuple[str, str], _Target]
             ) -> tuple[dict[int, list[_Target]], dict[tuple[str, str], str], set[tuple[str, _Target]]]:
    """The target of each extraction entity, by item index; the new entities, (name, label) -> key; the
    forms (key, target). Every name and mention text becomes a known alias of its target (first one wins)."""
    targets: dict[int, list[_Target]] = {}
    new: dict[tuple[str, str], str] = {}  # (name, label) -> key
    pending: dict[str, tuple[str, str]] = {}  # key -> the new entity of the batch
    forms: set[tuple[str, _Target]] = set()
    for it in sorted(items, key=lambda x: x.index):  # batch order: same result as one batch per item
        targets[it.index] = []
        for ent in it.extraction.entities:
            label = ent.label.strip()
            key, shown = ident[(ent.name, ent.label)]
            target: _Target = by_key.get(key) or pending.get(key) or known.get(
                (alias_key(shown), label), (shown, label))
            if isinstance(target, tuple):
                new.setdefault(target, key)
                pending.setdefault(key, target)
            for text in [ent.name, shown, *(m.text for m in ent.mentions)]:
                if alias_key(text):
                    known.setdefault((alias_key(text), label), target)
                    forms.add((identity_key(text, "") or alias_key(text), target))
            targets[it.index].append(target)
    return targets, new, forms


def _insert_aliases(conn: Connection, aliases: list[tuple[str, str, int]]) -> None:
    """The new (label, alias, entity id) rows, sorted: every writer takes the unique-index locks in one order."""
    if aliases:
        stmt = _insert(conn, entity_aliases).on_conflict_do_nothing(index_elements=["alias", "label"])
        conn.execute(stmt, [{"alias": a, "label": lab, "entity_id": eid} for lab, a, eid in aliases])


def _insert_forms(conn: Connection, form_rows: list[tuple[str, int]]) -> None:
    """The (key, entity id) forms, sorted as the aliases."""
    if form_rows:
        stmt = _insert(conn, entity_forms).on_conflict_do_nothing(index_elements=["key", "entity_id"])
        conn.execute(stmt, [{"key": k, "entity_id": eid} for k, eid in form_rows])


def _insert_entities(conn: Connection, new: dict[tuple[str, str], str], stats: WriteStats
                     ) -> dict[tuple[str, str], int]:
    """Insert the new (name, label) entities with their keys; their ids (a row already there is adopted)."""
    ids: dict[tuple[str, str], int] = {}
    if not new:
        return ids
    params = [{"name": n, "label": lab, "key": new[(n, lab)]} for n, lab in sorted(new, key=lambda t: (t[1], t[0]))]
    stmt = _insert(conn, entities).on_conflict_do_nothing(index_elements=["name", "label"])
    stats.entities_new += len(conn.execute(stmt.returning(entities.c.id), params).all())
    for chunk in chunks(sorted({n for n, _lab in new})):
        found = conn.execute(sa.select(entities.c.id, entities.c.name, entities.c.label, entities.c.key)
                             .where(entities.c.name.in_(chunk)))
        for eid, n, lab, key in found:
            if (n, lab) in new:
                ids[(n, lab)] = eid
                if key != new[(n, lab)]:  # a row stored before 0008: it takes the identity key
                    conn.execute(entities.update().where(entities.c.id == eid).values(key=new[(n, lab)]))
    return ids


def _label_rows(items: list[_Item]) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """One ``entity_labels`` row per (article, entity): the label of the article's entity with most mentions."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    article_of: dict[int, str] = {}
    for it in items:
        for ent, eid in zip(it.extraction.entities, it.entity_ids, strict=True):
            n = len(ent.mentions)
            row = rows.get((it.article.id, eid))
            if row is None:
                rows[(it.article.id, eid)] = {"article_id": it.article.id, "entity_id": eid,
                                              "label": ent.label.strip(), "mentions": n, "_best": n}
            else:
                if n > row["_best"]:
                    row.update(label=ent.label.strip(), _best=n)
                row["mentions"] += n
            article_of.setdefault(eid, it.article.id)
    return [{k: v for k, v in r.items() if k != "_best"} for r in rows.values()], article_of


def _settle_entities(conn: Connection, items: list[_Item], keys: set[str]) -> None:
    """After the counts: the articles' label votes, surname merges, then the consensus labels."""
    rows, article_of = _label_rows(items)
    touched = record_labels(conn, rows, [it.article.id for it in items], chunks)
    first = items[0].article.id if items else None
    merge_surnames(conn, keys, first)
    survivors = {r for (r,) in conn.execute(sa.select(entity_merges.c.new_id)
                                            .where(entity_merges.c.old_id.in_(sorted(touched))))}
    update_labels(conn, touched | survivors, article_of, first)


def _upsert_articles(conn: Connection, items: list[_Item], version: str, now: datetime) -> None:
    rows = []
    for it in sorted(items, key=lambda x: x.article.id):  # one lock order for every writer
        a, pos = it.article, it.position
        rows.append({
            **{name: getattr(a, name) for name in STORED_FIELDS},  # the article's own fields, one column each
            "published_date": a.published_date, "country": getattr(it.extraction, "country", None),
            "extractor_version": version, "content_hash": it.hash,
            "kafka_topic": pos.topic if pos else None, "kafka_partition": pos.partition if pos else None,
            "kafka_offset": pos.offset if pos else None, "created_at": now, "updated_at": now,
        })
    stmt = _insert(conn, articles)
    keep = {"id", "created_at"}
    stmt = stmt.on_conflict_do_update(index_elements=["id"],
                                      set_={c: stmt.excluded[c] for c in rows[0] if c not in keep})
    conn.execute(stmt, rows)


def _update_counts(conn: Connection, items: list[_Item]) -> None:
    """Replace the items' ``article_entities`` rows; add the difference, new minus old, to ``entity_stats``.

    Runs after the articles' upsert: their rows are locked, so the old rows read here are the
    ones committed last, even when another writer rewrote the same article a moment before.
    The new rows are counted from the mentions just inserted, by the database (INSERT ... SELECT).
    """
    ae, es = article_entities.c, entity_stats.c
    delta: dict[int, list[int]] = {}  # entity -> [mentions, articles]

    def add(rows: Iterable[Any], sign: int) -> None:
        for eid, n in rows:
            d = delta.setdefault(eid, [0, 0])
            d[0] += sign * n
            d[1] += sign

    for ids in chunks(sorted(it.article.id for it in items)):
        add(conn.execute(article_entities.delete().where(ae.article_id.in_(ids))  # read and delete at once
                         .returning(ae.entity_id, ae.mentions)), -1)
        add(conn.execute(fill_article_entities(ids).returning(ae.entity_id, ae.mentions)), +1)
    changes = [{"entity_id": eid, "mentions": n, "articles": a}
               for eid, (n, a) in sorted(delta.items()) if n or a]  # sorted: one lock order for every writer
    if not changes:
        return
    stmt = _insert(conn, entity_stats)
    stmt = stmt.on_conflict_do_update(index_elements=["entity_id"], set_={
        "mentions": es.mentions + stmt.excluded.mentions, "articles": es.articles + stmt.excluded.articles})
    conn.execute(stmt, changes)
    for eids in chunks(c["entity_id"] for c in changes if c["articles"] < 0):  # no row for an entity at 0
        conn.execute(entity_stats.delete().where(es.entity_id.in_(eids), es.articles <= 0))


def _mention_rows(it: _Item, eids: list[int]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, int, int], dict[str, Any]] = {}
    for ent, eid in zip(it.extraction.entities, eids, strict=True):
        for m in ent.mentions:  # two entities claiming one span: the first keeps it
            rows.setdefault((m.field, m.start, m.end), {
                "article_id": it.article.id, "entity_id": eid, "field": m.field, "start": m.start,
                "end": m.end, "text": m.text, "sentence": m.sentence})
    return list(rows.values())


def _event_rows(it: _Item, eids: list[int]) -> list[dict[str, Any]]:
    by_key: dict[str, int] = {}  # the article's names first, then its mention forms
    for ent, eid in zip(it.extraction.entities, eids, strict=True):
        by_key.setdefault(alias_key(ent.name), eid)
    for ent, eid in zip(it.extraction.entities, eids, strict=True):
        for m in ent.mentions:
            by_key.setdefault(alias_key(m.text), eid)

    def span(role: str, sp: Span | None) -> dict[str, Any]:
        """The entity a span refers to: by its canonical name, else by its text; None when unknown."""
        keys = [alias_key(t) for t in (sp.entity, sp.text) if t] if sp else []
        eid = next((by_key[k] for k in keys if k in by_key), None)
        return {f"{role}_id": eid, f"{role}_text": sp.text if sp else None}

    def source_id(sp: Span | None) -> int | None:
        return span("source", sp)["source_id"]

    rows = []
    for seq, ev in enumerate(it.extraction.events):
        tr = ev.trigger
        rows.append({
            "article_id": it.article.id, "seq": seq, "type": ev.type, "trigger_text": tr.text,
            "trigger_lemma": tr.lemma, "trigger_start": tr.start, "trigger_end": tr.end,
            **span("actor", ev.actor), **span("target", ev.target), **span("location", ev.location),
            "date": parse_date(ev.date), "date_text": ev.date_text, "negated": bool(ev.negated),
            "modality": ev.modality, "source_text": ev.source.text if ev.source else None,
            "sentence": ev.sentence or "", "country": getattr(ev, "country", None),
            "family": ev.family, "actor_sector": ev.actor.sector if ev.actor else None,
            "target_sector": ev.target.sector if ev.target else None, "source_id": source_id(ev.source),
            "quote_text": ev.quote.text if ev.quote else None,
        })
    return rows


def _place_links(items: list[_Item]) -> Iterable[tuple[str, int, Any, int]]:
    """(article, entity id, place, mentions) for every entity whose geo resolved."""
    for it in items:
        for ent, eid in zip(it.extraction.entities, it.entity_ids, strict=True):
            geo = getattr(ent, "geo", None)
            if geo is not None:
                yield it.article.id, eid, geo, len(ent.mentions)
