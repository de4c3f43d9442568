"""``query places`` and ``query events --format geojson``: where the news happens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from pipeline.store.db import translate_errors
from pipeline.store.models import article_places, articles, events, places
from pipeline.store.query.filters import ANY_TIME, Period, for_aggregates, iso

PLACE_COLUMNS = ["name", "kind", "country", "admin1", "lat", "lon", "geonameid", "mentions", "articles"]


def top_places(engine: Engine, *, country: str | None = None, kind: str | None = None, period: Period = ANY_TIME,
               top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` places by mentions in articles published in ``period`` (of ``country``/``kind`` when given).

    Rows ``{"name", "kind", "country", "admin1", "lat", "lon", "geonameid", "mentions", "articles"}``.
    """
    ap, p = article_places.c, places.c
    counts = (sa.select(ap.place_id, sa.cast(sa.func.sum(ap.mentions), sa.Integer).label("mentions"),
                        sa.func.count(sa.distinct(ap.article_id)).label("articles"))
              .group_by(ap.place_id))
    if not period.open:
        counts = counts.join(articles, articles.c.id == ap.article_id).where(*period.where())
    c = counts.subquery("c")
    q = (sa.select(p.name, p.kind, p.country, p.admin1, p.lat, p.lon, p.geonameid, c.c.mentions, c.c.articles)
         .join(c, c.c.place_id == p.id)
         .order_by(c.c.mentions.desc(), c.c.articles.desc(), p.name, p.id).limit(top))
    if country is not None:
        q = q.where(p.country == country.strip().upper())
    if kind is not None:
        q = q.where(p.kind == kind.strip().lower())
    with translate_errors(str(engine.url)), engine.connect() as conn:
        for_aggregates(conn)
        return [dict(r) for r in conn.execute(q).mappings()]


def event_points(conn: sa.Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[float, float]]:
    """(article_id, seq) -> (lon, lat) for events whose location resolved to a place with coordinates."""
    if not rows:
        return {}
    e, ap, p = events.c, article_places.c, places.c
    ids = sorted({r["article_id"] for r in rows})
    q = (sa.select(e.article_id, e.seq, p.lon, p.lat)
         .join(article_places, sa.and_(ap.article_id == e.article_id, ap.entity_id == e.location_id))
         .join(places, places.c.id == ap.place_id)
         .where(e.article_id.in_(ids), p.lat.is_not(None), p.lon.is_not(None)))
    return {(a, s): (lon, lat) for a, s, lon, lat in conn.execute(q)}


def country_points(conn: sa.Connection, codes: set[str]) -> dict[str, tuple[float, float]]:
    """ISO code -> (lon, lat) of the country's stored place (its capital), for the codes known."""
    if not codes:
        return {}
    p = places.c
    q = sa.select(p.country, p.lon, p.lat).where(p.kind == "country", p.country.in_(sorted(codes)),
                                                 p.lat.is_not(None))
    return {c: (lon, lat) for c, lon, lat in conn.execute(q)}


def to_geojson(engine: Engine, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of event rows (``search_events``' output, which carries ``seq``).

    A point at the event's location when it resolved, else at its country (its capital), else
    ``geometry: null``; ``properties`` hold the row's columns and ``"placed": "location"|"country"|null``.
    """
    with translate_errors(str(engine.url)), engine.connect() as conn:
        own = event_points(conn, rows)
        by_country = country_points(conn, {r["country"] for r in rows if r.get("country")})
    features = []
    for r in rows:
        point = own.get((r["article_id"], r.get("seq", -1)))
        placed = "location" if point else None
        if point is None and r.get("country") in by_country:
            point, placed = by_country[r["country"]], "country"
        props = {k: iso(v) for k, v in r.items() if k != "seq"} | {"placed": placed}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": list(point)} if point else None})
    return {"type": "FeatureCollection", "features": features}
