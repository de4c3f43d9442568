"""Write the places of a batch: ``places`` (upserted by key) and ``article_places`` (replaced per article).

Reads plain records only: an entity's ``geo`` is a ``pipeline.geo.records.Place`` (or None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from pipeline.store.models import article_places, places


class PlaceLike(Protocol):
    geonameid: int | None
    name: str
    kind: str
    country: str | None
    admin1: str | None
    lat: float | None
    lon: float | None


def place_key(p: PlaceLike) -> str:
    """``gn:<geonameid>``; a division without one ``iso:<ISO 3166-2>``; else ``name:<kind>:<country>:<name>``."""
    if p.geonameid is not None:
        return f"gn:{p.geonameid}"
    if p.kind == "admin1" and p.admin1:
        return f"iso:{p.admin1}"
    return f"name:{p.kind}:{p.country or ''}:{p.name}"


def place_row(p: PlaceLike) -> dict[str, Any]:
    return {"key": place_key(p), "geonameid": p.geonameid, "name": p.name, "kind": p.kind, "country": p.country,
            "admin1": p.admin1, "lat": p.lat, "lon": p.lon}


def write_places(conn: Connection, insert: Callable[[sa.Table], Any], article_ids: Sequence[str],
                 rows: Iterable[tuple[str, int, PlaceLike, int]],
                 chunks: Callable[[Iterable[Any]], Iterable[list[Any]]]) -> int:
    """Replace the ``article_places`` of ``article_ids`` with ``rows`` of (article, entity id, place, mentions).

    ``insert``: the dialect's INSERT (for ON CONFLICT); returns the number of rows written.
    """
    for batch in chunks(sorted(article_ids)):
        conn.execute(article_places.delete().where(article_places.c.article_id.in_(batch)))
    links: dict[tuple[str, int], list[Any]] = {}
    by_key: dict[str, dict[str, Any]] = {}
    for article_id, entity_id, place, n in rows:
        row = place_row(place)
        by_key.setdefault(row["key"], row)
        link = links.setdefault((article_id, entity_id), [row["key"], 0])  # one entity, one place: the first
        link[1] += n
    if not links:
        return 0
    keys = sorted(by_key)  # sorted: every writer takes the unique-index locks in the same order
    conn.execute(insert(places).on_conflict_do_nothing(index_elements=["key"]), [by_key[k] for k in keys])
    ids: dict[str, int] = {}
    for chunk in chunks(keys):
        ids.update(conn.execute(sa.select(places.c.key, places.c.id).where(places.c.key.in_(chunk))).all())
    conn.execute(article_places.insert(), [
        {"article_id": a, "entity_id": e, "place_id": ids[k], "mentions": n}
        for (a, e), (k, n) in sorted(links.items())])
    return len(links)
