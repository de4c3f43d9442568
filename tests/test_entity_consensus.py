"""Entity identity across articles: consensus labels with their history, name variants, merges, any order."""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.article import Article
from pipeline.records import Extraction
from pipeline.store.models import entities, entity_label_history, entity_merges
from pipeline.store.query import entity_profile, top_entities
from pipeline.store.writer import write_batch
from tests.test_store_writer import V1, entity, make_article


def one(body: str, url: str, *named: tuple[str, str, tuple[str, ...]]) -> tuple[Article, Extraction]:
    a = make_article(body, url=url, title=url)
    return a, Extraction(entities=[entity(a, n, lab, *forms) for n, lab, forms in named])


def yukos(i: int, label: str) -> tuple[Article, Extraction]:
    return one(f"Yukos filed report {i}. Yukos said so.", f"https://news.example/yukos/{i}",
               ("Yukos", label, ("Yukos", "Yukos")))


def write(engine: sa.Engine, *items: tuple[Article, Extraction]) -> None:
    for a, x in items:  # one batch per article: as they arrive
        write_batch(engine, [(a, x, None)], extractor_version=V1)


def state(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return {(n, lab) for n, lab in conn.execute(sa.select(entities.c.name, entities.c.label))}


def test_consensus_label_and_its_history(engine: sa.Engine) -> None:
    write(engine, yukos(1, "PERSON"))
    assert state(engine) == {("Yukos", "PERSON")}
    write(engine, yukos(2, "ORG"))  # a tie, 1 to 1 (and mentions too): the label's name decides, in any order
    write(engine, yukos(3, "ORG"))
    assert state(engine) == {("Yukos", "ORG")}  # one entity: two articles of three say ORG
    with engine.connect() as conn:
        hist = conn.execute(sa.select(entity_label_history.c.old_label, entity_label_history.c.new_label,
                                      entity_label_history.c.votes).order_by(entity_label_history.c.id)).all()
    assert [tuple(h) for h in hist] == [(None, "PERSON", "PERSON 1"), ("PERSON", "ORG", "ORG 1, PERSON 1")]
    prof = entity_profile(engine, "yukos")
    assert [(h["old_label"], h["new_label"]) for h in prof["label_history"]] == [(None, "PERSON"), ("PERSON", "ORG")]
    assert top_entities(engine)[0] == {"name": "Yukos", "label": "ORG", "mentions": 3, "articles": 3}


def test_country_forms_are_one_entity(engine: sa.Engine) -> None:
    write(engine,
          one("The U.S. said no.", "https://news.example/us/1", ("U.S.", "GPE", ())),
          one("The US said yes.", "https://news.example/us/2", ("US", "GPE", ())),
          one("The United States and America agreed.", "https://news.example/us/3",
              ("United States", "GPE", ("United States", "America"))))
    assert state(engine) == {("United States", "GPE")}
    assert top_entities(engine)[0]["mentions"] == 4
    assert entity_profile(engine, "U.S.")["entities"][0]["name"] == "United States"


EBBERS = [
    ("Mr Ebbers denied the charges.", "https://news.example/e/1", ("Mr Ebbers", "PERSON", ())),
    ("Bernard Ebbers was in court. Ebbers said nothing.", "https://news.example/e/2",
     ("Bernard Ebbers", "PERSON", ("Bernard Ebbers", "Ebbers"))),
    ("Ebbers will appeal.", "https://news.example/e/3", ("Ebbers", "PERSON", ())),
]


def test_a_surname_merges_into_the_one_full_name_with_a_record(engine: sa.Engine) -> None:
    write(engine, *(one(*e) for e in EBBERS))
    assert state(engine) == {("Bernard Ebbers", "PERSON")}
    with engine.connect() as conn:
        merges = conn.execute(sa.select(entity_merges.c.old_name, entity_merges.c.reason)).all()
    assert [m[0] for m in merges] == ["Ebbers"] and "surname 'ebbers'" in merges[0][1]
    prof = entity_profile(engine, "Mr Ebbers")
    assert prof["entities"][0]["name"] == "Bernard Ebbers" and prof["entities"][0]["mentions"] == 4
    assert [m["old_name"] for m in prof["merges"]] == ["Ebbers"]


def test_two_full_names_leave_the_surname_alone(engine: sa.Engine) -> None:
    write(engine, one("Novak spoke.", "https://news.example/n/1", ("Novak", "PERSON", ())),
          one("Maria Novak and Jan Novak met; Novak left.", "https://news.example/n/2",
              ("Maria Novak", "PERSON", ("Maria Novak", "Novak")), ("Jan Novak", "PERSON", ("Jan Novak",))),
          one("Jan Novak arrived. Novak smiled.", "https://news.example/n/3",
              ("Jan Novak", "PERSON", ("Jan Novak", "Novak"))))
    assert ("Novak", "PERSON") in state(engine) or ("Maria Novak", "PERSON") in state(engine)


def test_arrival_order_does_not_matter(engine: sa.Engine) -> None:
    items = [*(one(*e) for e in EBBERS), yukos(1, "PERSON"), yukos(2, "ORG"), yukos(3, "ORG"),
             one("The U.S. said no.", "https://news.example/us/1", ("U.S.", "GPE", ())),
             one("The United States agreed.", "https://news.example/us/3", ("United States", "GPE", ()))]
    write(engine, *items)
    forward = (state(engine), sorted((r["name"], r["label"], r["mentions"]) for r in top_entities(engine)))
    with engine.begin() as conn:
        for table in ("entity_merges", "entity_label_history"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("DELETE FROM articles"))
        for table in ("mentions", "entity_stats", "entity_forms", "entity_aliases", "entities"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    write(engine, *reversed(items))
    backward = (state(engine), sorted((r["name"], r["label"], r["mentions"]) for r in top_entities(engine)))
    assert forward == backward
    assert ("Bernard Ebbers", "PERSON") in forward[0] and ("Yukos", "ORG") in forward[0]
