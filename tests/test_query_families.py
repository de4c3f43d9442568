"""query events by family and sector, and the columns issue 13 added (real SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.article import Article
from pipeline.records import Entity, Event, Extraction, Mention, Span, Trigger
from pipeline.store.writer import write_batch

TEXT = "Police arrested Anna Berg. Volkswagen will cut 500 jobs, the minister said. \"We won,\" Berg told reporters."


def _event(etype: str, family: str, trigger: str, actor: Span | None, target: Span | None, **kw) -> Event:
    start = TEXT.index(trigger)
    return Event(type=etype, family=family, trigger=Trigger(trigger, trigger.lower(), start, start + len(trigger)),
                 actor=actor, target=target, sentence=TEXT, **kw)


def _span(text: str, entity: str | None = None, sector: str | None = None) -> Span:
    start = TEXT.index(text)
    return Span(text, start, start + len(text), entity=entity, sector=sector)


def _load(engine: sa.Engine) -> None:
    ents = [Entity("Anna Berg", "PERSON", [Mention("Anna Berg", TEXT.index("Anna Berg"), TEXT.index("Anna Berg") + 9)]),
            Entity("Volkswagen", "ORG", [Mention("Volkswagen", TEXT.index("Volkswagen"),
                                                 TEXT.index("Volkswagen") + 10)])]
    evs = [_event("ARREST", "justice", "arrested", _span("Police", sector="police"), _span("Anna Berg", "Anna Berg")),
           _event("JOB_CUTS", "business", "cut", _span("Volkswagen", "Volkswagen"), _span("500 jobs"),
                  modality="reported", source=_span("minister", sector="government")),
           _event("STATEMENT", "statement", "told", _span("Berg", "Anna Berg"), _span("reporters", sector="media"),
                  quote=_span("We won"))]
    art = Article(id="a1", body=TEXT, published="2024-03-11", source="Test")
    write_batch(engine, [(art, Extraction(entities=ents, events=evs), None)], extractor_version="test")


def events(db_url: str, *args: str) -> list[dict]:
    res = CliRunner().invoke(cli, ["query", "events", *args, "--format", "json", "--database-url", db_url])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_events_by_family_and_sector_with_source_and_quote(engine: sa.Engine, db_url: str) -> None:
    _load(engine)
    assert [r["type"] for r in events(db_url, "--family", "JUSTICE")] == ["ARREST"]
    assert [r["type"] for r in events(db_url, "--sector", "police")] == ["ARREST"]
    cut, = events(db_url, "--family", "business")
    assert (cut["family"], cut["source"], cut["modality"]) == ("business", "minister", "reported")
    said, = events(db_url, "--type", "statement")
    assert (said["actor"], said["target_sector"], said["quote"]) == ("Anna Berg", "media", "We won")


def test_an_unknown_family_lists_the_families(engine: sa.Engine, db_url: str) -> None:
    res = CliRunner().invoke(cli, ["query", "events", "--family", "weather", "--database-url", db_url],
                             env={"NEWSSTREAM_LOG_FORMAT": "console"})
    assert res.exit_code == 2
    assert "'weather' is not an event family" in res.output and "justice" in res.output
