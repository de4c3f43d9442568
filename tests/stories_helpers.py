"""Articles written for the story tests: two outlets per event, hand-made extractions (no spaCy)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from pipeline.article import Article
from pipeline.records import Entity, Event, Extraction, Mention, Span, Trigger
from pipeline.store.db import make_engine


def article(aid: str, day: str, source: str, title: str, lead: str, body: str,
            names: list[tuple[str, str]], events: Iterable[tuple[str, str, str | None, str | None]] = ()) -> tuple[
                Article, Extraction]:
    """An article whose extraction names ``names`` (each at its first place in the body) and ``events``
    ((type, trigger word, actor, target), found in the body)."""
    a = Article(id=aid, title=title, body=body, published=day, source=source, lead=lead,
                url=f"https://{source}/{aid}")
    ents = []
    for name, label in names:
        start = body.index(name)
        ents.append(Entity(name, label, [Mention(name, start, start + len(name), "body")]))
    evs = []
    for type_, word, actor, target in events:
        start = body.index(word)

        def span(n: str | None) -> Span | None:
            if n is None:
                return None
            s = body.index(n)
            return Span(n, s, s + len(n), n)

        evs.append(Event(type_, Trigger(word, word, start, start + len(word)), span(actor), span(target),
                         sentence=body.split(".")[0]))
    return a, Extraction(ents, evs)


def grouping(url: str) -> set[frozenset[str]]:
    """The stories as sets of article ids (comparable whatever the story ids are)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select id, story_id from articles")).all()
    finally:
        engine.dispose()
    by: dict[object, set[str]] = {}
    for aid, sid in rows:
        by.setdefault(sid, set()).add(aid)
    return {frozenset(v) for v in by.values()}


QUAKE = [("Jonas Berg", "PERSON"), ("Hallstad", "GPE"), ("Norwegian Red Cross", "ORG"), ("Lena Moreau", "PERSON")]
FERRY = [("Maria Novak", "PERSON"), ("Port Ostrava", "GPE"), ("Baltic Line", "ORG"), ("Tomas Castillo", "PERSON")]


def two_events() -> list[tuple[Article, Extraction]]:
    """Event 1, an earthquake in Hallstad (two outlets, same day); event 2, a ferry fire (two outlets)."""
    q1 = ("An earthquake struck Hallstad on Monday. Jonas Berg of the Norwegian Red Cross said rescuers "
          "were searching for survivors. Lena Moreau, the mayor, asked for help.")
    q2 = ("Rescuers searched the rubble of Hallstad after Monday's earthquake. The Norwegian Red Cross sent "
          "teams, Jonas Berg said. Mayor Lena Moreau appealed for tents.")
    f1 = ("A fire broke out on a Baltic Line ferry near Port Ostrava. Captain Tomas Castillo ordered the "
          "evacuation, Maria Novak of the coast guard said.")
    f2 = ("Passengers were evacuated from a burning Baltic Line ferry off Port Ostrava. Maria Novak praised "
          "captain Tomas Castillo for the calm evacuation.")
    return [
        article("quake-a", "2024-03-04", "north.example", "Earthquake hits Hallstad, rescuers search for survivors",
                "A strong earthquake struck the town of Hallstad.", q1, QUAKE,
                [("OTHER", "said", "Jonas Berg", None), ("REQUEST", "asked", "Lena Moreau", None)]),
        article("ferry-a", "2024-03-04", "north.example", "Fire on Baltic Line ferry, passengers evacuated",
                "A ferry caught fire near Port Ostrava.", f1, FERRY,
                [("OTHER", "ordered", "Tomas Castillo", None)]),
        article("quake-b", "2024-03-04", "south.example", "Hallstad earthquake: Red Cross searches rubble",
                "Rescuers searched for survivors of the earthquake in Hallstad.", q2, QUAKE,
                [("OTHER", "said", "Jonas Berg", None), ("REQUEST", "appealed", "Lena Moreau", None)]),
        article("ferry-b", "2024-03-05", "south.example", "Baltic Line ferry fire: passengers evacuated",
                "Passengers left a burning ferry off Port Ostrava.", f2, FERRY,
                [("APPROVE", "praised", "Maria Novak", "Tomas Castillo")]),
    ]


def same_actors_other_day() -> list[tuple[Article, Extraction]]:
    """Two different events with the same people, three days apart: a trade deal, then a spying row."""
    d1 = ("Maria Novak and Jonas Berg signed a fishing agreement in Tromsvik on Monday. The deal opens "
          "the Tromsvik harbour to trawlers from the Nordic Fisheries Council.")
    d2 = ("Maria Novak accused Jonas Berg of spying at a press conference in Lagos on Thursday. Interpol "
          "was asked to investigate the leaked Okoro Energy documents.")
    return [
        article("deal", "2024-05-06", "north.example", "Novak and Berg sign fishing agreement in Tromsvik",
                "A fishing deal opens the harbour to trawlers.", d1,
                [("Maria Novak", "PERSON"), ("Jonas Berg", "PERSON"), ("Tromsvik", "GPE"),
                 ("Nordic Fisheries Council", "ORG")], [("AGREE", "signed", "Maria Novak", "Jonas Berg")]),
        article("spying", "2024-05-09", "south.example", "Novak accuses Berg of spying over leaked documents",
                "Interpol was asked to investigate leaked energy documents.", d2,
                [("Maria Novak", "PERSON"), ("Jonas Berg", "PERSON"), ("Lagos", "GPE"), ("Interpol", "ORG"),
                 ("Okoro Energy", "ORG")], [("ACCUSE", "accused", "Maria Novak", "Jonas Berg")]),
    ]
