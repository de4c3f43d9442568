"""Entity identity across articles: normalised keys, consensus labels, merges (issues 13.4 and 18.9).

* **Identity.** An entity is its :func:`identity_key`, whatever label an article gave it: "Yukos"
  PERSON and "Yukos" ORG are one entity. The key drops honorifics ("Mr Ebbers" -> ebbers) and the
  dots of acronyms (U.S. = US), and every name the gazetteer gives a country is that country's key
  (United States = US = U.S. = America: ``country:us``), shown under the gazetteer's name.
* **Consensus label.** Each article's label for each entity is kept (``entity_labels``); the
  entity's label is the one most of its articles gave (ties: more mentions, then the label's
  name), recomputed for the entities a batch touches, and every change is a row of
  ``entity_label_history`` (the first label too, with ``old_label`` NULL).
* **Merges after the fact.** Entities that come to share a key, and a bare surname ("Ebbers", a
  PERSON) with the ONE full name some article named by that surname ("Bernard Ebbers ... Ebbers"),
  are merged into one, whichever arrived first: mentions, counts, aliases, events and votes move to
  the survivor, the other row is deleted and ``entity_merges`` records old id -> survivor, why and
  when. Two full names seen with one surname ("Maria Novak", "Jan Novak") leave it alone. A merge
  already made stays when a second full name arrives later (recorded, never silent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline import names
from pipeline.store.chunks import chunks
from pipeline.store.models import (
    article_entities,
    article_places,
    entities,
    entity_aliases,
    entity_forms,
    entity_label_history,
    entity_labels,
    entity_merges,
    entity_stats,
    events,
    mentions,
    story_events,
)
from pipeline.store.normalize import alias_key, clean_name

PLACE_LABELS = frozenset({"GPE", "LOC"})
_DOTS = re.compile(r"(?<=\w)\.(?=\w|$)|(?<=\w)\.(?= )")


def strip_honorific(name: str) -> str:
    """ "Mr Ebbers" -> "Ebbers" (the honorifics of ``pipeline.names``); a name that is only an honorific stays."""
    return names.strip_honorific(clean_name(name))


def _country(name: str) -> tuple[str, str] | None:
    """(ISO code, gazetteer name) when the gazetteer gives ``name`` to exactly one country."""
    from pipeline.geo import default_gazetteer

    found = {c.place.country: c.place.name for c in default_gazetteer().lookup(name)
             if c.place.kind == "country" and c.primary and c.place.country}
    return next(iter(found.items())) if len(found) == 1 else None


def identity(name: str, label: str) -> tuple[str, str]:
    """(key, display name) of an entity named ``name`` with ``label`` in some article."""
    shown = strip_honorific(name)
    key = _DOTS.sub("", alias_key(shown))
    if label in PLACE_LABELS:
        country = _country(shown)
        if country is not None:
            return f"country:{country[0].lower()}", country[1]
    return key, shown


def identity_key(name: str, label: str) -> str:
    return identity(name, label)[0]


def consensus(votes: Iterable[tuple[str, int, int]]) -> str:
    """The label most articles gave; ties: more mentions, then the label's name.

    ``votes``: (label, articles, mentions) per label."""
    return min(votes, key=lambda v: (-v[1], -v[2], v[0]))[0]


def _votes_text(votes: list[tuple[str, int, int]]) -> str:
    return ", ".join(f"{lab} {n}" for lab, n, _m in sorted(votes, key=lambda v: (-v[1], v[0])))


def record_labels(conn: Connection, rows: list[dict[str, Any]], article_ids: list[str],
                  chunks: Callable[[Iterable[Any]], Iterable[list[Any]]]) -> set[int]:
    """Replace the articles' ``entity_labels`` with ``rows``; the ids of every entity whose votes changed."""
    touched = {r["entity_id"] for r in rows}
    for ids in chunks(sorted(article_ids)):
        gone = conn.execute(entity_labels.delete().where(entity_labels.c.article_id.in_(ids))
                            .returning(entity_labels.c.entity_id))
        touched.update(eid for (eid,) in gone)
    if rows:
        conn.execute(entity_labels.insert(), sorted(rows, key=lambda r: (r["article_id"], r["entity_id"])))
    return touched


def update_labels(conn: Connection, ids: Iterable[int], article_of: dict[int, str], default: str | None) -> None:
    """Set each entity's label to the consensus of its votes; a history row for each change, naming
    an article of the batch that voted for it (``article_of``, else ``default``)."""
    now = datetime.now(timezone.utc)
    order = sorted(set(ids))
    known: dict[int, _LabelState] | None = _label_states(conn, order)  # three queries for the batch
    history: list[dict[str, Any]] = []  # written together, and before any merge moves its entities' rows
    for eid in order:
        state = known.get(eid) if known is not None else _label_states(conn, [eid]).get(eid)
        if state is None:
            continue
        votes, name, label, first = state
        article_id = article_of.get(eid, default)
        new = consensus(votes)
        if new == label and not first:
            continue
        if new != label:
            twin = conn.scalar(sa.select(entities.c.id).where(entities.c.name == name, entities.c.label == new))
            if twin is not None:  # the unique (name, label): the two are one entity
                _write_history(conn, history)
                eid = merge(conn, twin, eid, "same name and label", article_id)
                known = None  # the merge moved votes and rows: the rest are read one by one
            conn.execute(entities.update().where(entities.c.id == eid).values(label=new))
        history.append({"entity_id": eid, "old_label": None if first else label, "new_label": new,
                        "votes": _votes_text(votes), "article_id": article_id, "changed_at": now})
        if known is None:  # read one by one from here: each read must see the rows before it
            _write_history(conn, history)
    _write_history(conn, history)


def _write_history(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(entity_label_history.insert(), rows)
        rows.clear()


# (votes as (label, articles, mentions), name, label, no history yet) of an entity
_LabelState = tuple[list[tuple[str, int, int]], str, str, bool]


def _label_states(conn: Connection, ids: list[int]) -> dict[int, _LabelState]:
    """What ``update_labels`` needs of each entity with a row and votes, read a chunk of ids at a time."""
    el, h = entity_labels.c, entity_label_history.c
    out: dict[int, _LabelState] = {}
    for part in chunks(ids):
        votes: dict[int, list[tuple[str, int, int]]] = {}
        for eid, lab, n, m in conn.execute(sa.select(el.entity_id, el.label, sa.func.count(), sa.func.sum(el.mentions))
                                           .where(el.entity_id.in_(part)).group_by(el.entity_id, el.label)):
            votes.setdefault(eid, []).append((lab, int(n), int(m or 0)))
        told = set(conn.scalars(sa.select(h.entity_id).where(h.entity_id.in_(part)).distinct()))
        for eid, name, label in conn.execute(sa.select(entities.c.id, entities.c.name, entities.c.label)
                                             .where(entities.c.id.in_(part))):
            if eid in votes:
                out[eid] = (sorted(votes[eid]), name, label, eid not in told)
    return out


def merge(conn: Connection, a: int, b: int, reason: str, article_id: str | None) -> int:
    """Merge entities ``a`` and ``b``: the older (smaller id) survives unless ``b`` is given as survivor by
    :func:`merge_into`. Returns the survivor."""
    return merge_into(conn, max(a, b), min(a, b), reason, article_id)


def merge_into(conn: Connection, old: int, new: int, reason: str, article_id: str | None) -> int:
    """Move everything of entity ``old`` to ``new``, delete ``old``, record the merge. Returns ``new``."""
    if old == new:
        return new
    row = conn.execute(sa.select(entities.c.name, entities.c.label).where(entities.c.id == old)).first()
    if row is None:
        return new
    for table, col in ((mentions, "entity_id"), (events, "actor_id"), (events, "target_id"),
                       (events, "location_id"), (events, "source_id"), (story_events, "actor_id"),
                       (story_events, "target_id"), (story_events, "location_id"),
                       (entity_aliases, "entity_id"), (entity_label_history, "entity_id")):
        conn.execute(table.update().where(table.c[col] == old).values({col: new}))
    _move_keyed(conn, entity_forms, ["key"], old, new, {})
    _move_keyed(conn, entity_labels, ["article_id"], old, new, {"mentions": "sum"})
    _move_keyed(conn, article_entities, ["article_id"], old, new, {"mentions": "sum"})
    _move_keyed(conn, article_places, ["article_id"], old, new, {"mentions": "sum"})
    _move_stats(conn, old, new)
    conn.execute(entities.delete().where(entities.c.id == old))
    conn.execute(entity_merges.insert().values(old_id=old, old_name=row.name, old_label=row.label, new_id=new,
                                               reason=reason, article_id=article_id,
                                               merged_at=datetime.now(timezone.utc)))
    return new


def _move_keyed(conn: Connection, table: sa.Table, keys: list[str], old: int, new: int, add: dict[str, str]) -> None:
    """Rows of ``old`` -> ``new`` in a table keyed by (keys..., entity_id): a row ``new`` already has absorbs it."""
    c = table.c
    rows = [dict(r) for r in conn.execute(sa.select(table).where(c.entity_id == old)).mappings()]
    conn.execute(table.delete().where(c.entity_id == old))
    for r in rows:
        where = [c[k] == r[k] for k in keys] + [c.entity_id == new]
        if conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)):
            if add:
                conn.execute(table.update().where(*where).values({col: c[col] + r[col] for col in add}))
        else:
            conn.execute(table.insert().values({**r, "entity_id": new}))


def _move_stats(conn: Connection, old: int, new: int) -> None:
    es = entity_stats.c
    mine = conn.execute(sa.select(es.mentions, es.articles).where(es.entity_id == old)).first()
    conn.execute(entity_stats.delete().where(es.entity_id == old))
    if mine is None:
        return
    n = conn.scalar(sa.select(sa.func.count()).select_from(article_entities)
                    .where(article_entities.c.entity_id == new))  # articles are counted again: no double count
    m = conn.scalar(sa.select(sa.func.sum(article_entities.c.mentions)).where(article_entities.c.entity_id == new))
    if conn.scalar(sa.select(sa.func.count()).select_from(entity_stats).where(es.entity_id == new)):
        conn.execute(entity_stats.update().where(es.entity_id == new)
                     .values(mentions=int(m or 0), articles=int(n or 0)))
    else:
        conn.execute(entity_stats.insert().values(entity_id=new, mentions=int(m or 0), articles=int(n or 0)))


def merge_same_keys(conn: Connection, keys: Iterable[str], article_id: str | None) -> None:
    """Entities that share a key (stored before 0008, or renamed) become one: the oldest survives."""
    wanted = sorted(set(keys))
    owners: dict[str, list[int]] = {}
    for part in chunks(wanted):  # one query per chunk of keys; merges only where a key has two
        for key, eid in conn.execute(sa.select(entities.c.key, entities.c.id).where(entities.c.key.in_(part))):
            owners.setdefault(key, []).append(eid)
    for key in wanted:
        ids = sorted(owners.get(key, []))
        for old in ids[1:]:
            merge_into(conn, old, ids[0], f"same name ({key!r})", article_id)


def merge_surnames(conn: Connection, keys: Iterable[str], article_id: str | None) -> None:
    """A one-word PERSON merged into the one multi-word PERSON named by that word in some article.

    ``keys``: the keys a batch touched; full names are looked at by their last word too.
    """
    e, f = entities.c, entity_forms.c
    words = sorted({k for k in keys if k and " " not in k} | {k.split()[-1] for k in keys if k and " " in k})
    persons: dict[str, list[int]] = {}
    for part in chunks(words):  # the one-word PERSONs of these words, one query per chunk
        for key, eid in conn.execute(sa.select(e.key, e.id).where(e.key.in_(part), e.label == "PERSON")):
            persons.setdefault(key, []).append(eid)
    for word in words:
        bare = persons.get(word, [])
        if len(bare) != 1:
            continue
        full = conn.execute(sa.select(e.id, e.key).join(entity_forms, f.entity_id == e.id)
                            .where(f.key == word, e.id != bare[0], e.label == "PERSON")).all()
        owners = {eid for eid, key in full if key and " " in key and key.split()[-1] == word}
        if len(owners) == 1:
            merge_into(conn, bare[0], owners.pop(), f"surname {word!r} of the one full name seen with it",
                       article_id)
