"""Places in the database: what the writer stores, and `newsstream query ... --country`, `places`, geojson."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.article import Article
from pipeline.geo.records import Place
from pipeline.records import Entity, Event, Extraction, Mention, Span, Trigger
from pipeline.store.models import article_places, places
from pipeline.store.query import Period, search_articles, search_events, to_geojson, top_places
from pipeline.store.writer import write_batch

V = "test-geo"
MINSK = Place(625144, "Minsk", "city", "BY", "BY.04", 53.90019, 27.56653)
BELARUS = Place(630336, "Belarus", "country", "BY", None, 53.90019, 27.56653)
KYIV = Place(703448, "Kyiv", "city", "UA", "UA.12", 50.45466, 30.5238)


def article(aid: str, body: str, published: str) -> Article:
    return Article(id=aid, title=aid, body=body, published=published)


def ent(body: str, name: str, label: str, geo: Place | None) -> Entity:
    start = body.index(name)
    return Entity(name, label, [Mention(name, start, start + len(name))], geo=geo)


def event(body: str, trigger: str, country: str | None, location: str | None = None) -> Event:
    s = body.index(trigger)
    loc = None
    if location:
        ls = body.index(location)
        loc = Span(location, ls, ls + len(location), location)
    return Event("CONSULT", Trigger(trigger, trigger, s, s + len(trigger)), location=loc, country=country,
                 sentence=body)


def load(engine: sa.Engine) -> None:
    b1 = "Leaders met in Minsk, the capital of Belarus, and talked."
    b2 = "Ministers met in Kyiv and agreed."
    b3 = "Nothing is known of where this happened."
    write_batch(engine, [
        (article("by1", b1, "2024-03-01"),
         Extraction([ent(b1, "Minsk", "GPE", MINSK), ent(b1, "Belarus", "GPE", BELARUS)],
                    [event(b1, "met", "BY", "Minsk"), event(b1, "talked", "BY")], country="BY"), None),
        (article("ua1", b2, "2024-03-02"),
         Extraction([ent(b2, "Kyiv", "GPE", KYIV)], [event(b2, "agreed", "UA")], country="UA"), None),
        (article("none", b3, "2024-03-03"), Extraction([], [event(b3, "happened", None)]), None),
    ], extractor_version=V)


def test_places_and_countries_are_stored(engine: sa.Engine) -> None:
    load(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(places.c.key, places.c.kind, places.c.country)).all()
        links = conn.execute(sa.select(sa.func.count()).select_from(article_places)).scalar()
    assert sorted(rows) == [("gn:625144", "city", "BY"), ("gn:630336", "country", "BY"), ("gn:703448", "city", "UA")]
    assert links == 3
    assert [r["id"] for r in search_articles(engine, country="by")] == ["by1"]
    assert [r["country"] for r in search_events(engine, country="BY")] == ["BY", "BY"]
    assert search_events(engine, country="FR") == []


def test_rewriting_an_article_replaces_its_places(engine: sa.Engine) -> None:
    load(engine)
    b1 = "Leaders met in Minsk, the capital of Belarus, and talked."
    write_batch(engine, [(article("by1", b1, "2024-03-01"), Extraction([ent(b1, "Minsk", "GPE", MINSK)]), None)],
                extractor_version="v2")
    assert [(p["name"], p["mentions"]) for p in top_places(engine, country="BY")] == [("Minsk", 1)]


def test_top_places_by_mentions_country_and_period(engine: sa.Engine) -> None:
    load(engine)
    rows = top_places(engine)
    assert [r["name"] for r in rows] == ["Belarus", "Kyiv", "Minsk"]  # ties: by articles, then name
    assert rows[1] | {} == {"name": "Kyiv", "kind": "city", "country": "UA", "admin1": "UA.12", "lat": 50.45466,
                            "lon": 30.5238, "geonameid": 703448, "mentions": 1, "articles": 1}
    assert [r["name"] for r in top_places(engine, period=Period(date(2024, 3, 2), None))] == ["Kyiv"]
    assert [r["name"] for r in top_places(engine, kind="city", country="by")] == ["Minsk"]


def test_geojson_puts_events_at_their_location_else_their_country(engine: sa.Engine) -> None:
    load(engine)
    rows = search_events(engine, with_seq=True)
    fc = to_geojson(engine, rows)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 4
    by_trigger = {f["properties"]["trigger"]: f for f in fc["features"]}
    assert by_trigger["met"]["geometry"] == {"type": "Point", "coordinates": [27.56653, 53.90019]}
    assert by_trigger["met"]["properties"]["placed"] == "location"
    assert by_trigger["talked"]["properties"]["placed"] == "country"  # Belarus: its capital
    assert by_trigger["agreed"]["geometry"] is None  # no location, and no Ukraine row among the places
    assert by_trigger["happened"]["geometry"] is None and by_trigger["happened"]["properties"]["country"] is None


def test_cli_country_filters_places_and_geojson(engine: sa.Engine, db_url: str) -> None:
    load(engine)

    def run(*args: str) -> tuple[int, str, str]:
        res = CliRunner().invoke(cli, ["query", *args, "--database-url", db_url])
        return res.exit_code, res.stdout, res.stderr

    code, out, _ = run("events", "--country", "BY", "--format", "json")
    assert code == 0 and {r["country"] for r in json.loads(out)} == {"BY"}
    code, out, _ = run("articles", "--country", "UA", "--format", "csv")
    assert code == 0 and out.splitlines()[0].endswith(",country") and "ua1" in out
    code, out, _ = run("places", "--country", "BY", "--top", "1", "--format", "json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["Belarus"]
    code, out, _ = run("events", "--format", "geojson", "--country", "BY")
    assert code == 0 and len(json.loads(out)["features"]) == 2
    code, out, err = run("events", "--format", "geojson", "--country", "FR")
    assert code == 0 and json.loads(out) == {"type": "FeatureCollection", "features": []} and "no events" in err
