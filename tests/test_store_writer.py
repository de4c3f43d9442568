"""write_batch on SQLite and PostgreSQL: idempotency, replacement, aliases, bad items, concurrency."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.article import Article
from pipeline.records import Entity, Event, Extraction, Mention, Span, Trigger
from pipeline.store.models import articles, entities, entity_aliases, events, mentions, metadata
from pipeline.store.query.overview import resolve_entity
from pipeline.store.writer import Position, write_batch

V1 = "test-extractor-1"

# -- building test data by hand (no spaCy) ------------------------------------------------------


def make_article(body: str, *, title: str | None = None, url: str | None = None,
                 published: str | None = "2024-03-01", **fields: Any) -> Article:
    return Article.build(body=body, title=title, url=url, published=published, source="test-wire",
                         authors=["A. Writer"], **fields)


def mention(article: Article, surface: str, *, field: str = "body", nth: int = 0) -> Mention:
    text = getattr(article, field)
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return Mention(surface, start, start + len(surface), field, sentence=None)


def entity(article: Article, name: str, label: str, *surfaces: str) -> Entity:
    return Entity(name, label, [mention(article, s) for s in (surfaces or (name,))])


def event(article: Article, type_: str, trigger: str, *, actor: str | None = None, target: str | None = None,
          location: str | None = None, date: str | None = None, **kw: Any) -> Event:
    def span(text: str | None) -> Span | None:
        if text is None:
            return None
        m = mention(article, text)
        return Span(text, m.start, m.end, entity=None)

    t = mention(article, trigger)
    return Event(type_, Trigger(trigger, trigger.lower(), t.start, t.end), actor=span(actor),
                 target=span(target), location=span(location), date=date,
                 sentence=article.body.split(".")[0] + ".", **kw)


def minsk() -> tuple[Article, Extraction]:
    a = make_article("Belarusian President Alexander Lukashenko met Vladimir Putin in Minsk on Friday. "
                     "Lukashenko's office said the talks went well. Protesters gathered outside.",
                     title="Lukashenko meets Putin", url="https://news.example/minsk")
    x = Extraction(
        entities=[entity(a, "Alexander Lukashenko", "PERSON", "Alexander Lukashenko", "Lukashenko's"),
                  entity(a, "Vladimir Putin", "PERSON"), entity(a, "Minsk", "GPE")],
        events=[event(a, "CONSULT", "met", actor="Alexander Lukashenko", target="Vladimir Putin",
                      location="Minsk", date="2024-03-01", date_text="Friday"),
                event(a, "PROTEST", "gathered", actor="Protesters")])
    return a, x


def kyiv() -> tuple[Article, Extraction]:
    a = make_article("Lukashenko warned Kyiv on Monday. Zelensky rejected the warning.",
                     url="https://news.example/kyiv", published="2024-03-04T09:30:00+02:00")
    x = Extraction(
        entities=[entity(a, "Lukashenko", "PERSON"), entity(a, "Kyiv", "GPE"),
                  entity(a, "Zelensky", "PERSON")],
        events=[event(a, "THREATEN", "warned", actor="Lukashenko", target="Kyiv", date="2024-03-04"),
                event(a, "REJECT", "rejected", actor="Zelensky", negated=False, modality="reported")])
    return a, x


def dump(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))]
    return out


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(table))


# -- tests --------------------------------------------------------------------------------------


def test_write_stores_article_entities_mentions_and_events(engine: sa.Engine) -> None:
    a, x = minsk()
    stats = write_batch(engine, [(a, x, Position("news.articles", 2, 41))], extractor_version=V1)
    assert (stats.articles, stats.entities_new, stats.mentions, stats.events) == (1, 3, 4, 2)
    assert stats.rejected == []
    with engine.connect() as conn:
        row = conn.execute(sa.select(articles).where(articles.c.id == a.id)).mappings().one()
        assert row["title"] == "Lukashenko meets Putin" and row["body"] == a.body
        assert row["authors"] == ["A. Writer"] and row["source"] == "test-wire"
        assert str(row["published_date"]) == "2024-03-01" and row["extractor_version"] == V1
        assert (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"]) == ("news.articles", 2, 41)
        spans = conn.execute(sa.select(mentions.c.text, mentions.c.start, mentions.c.end, entities.c.name)
                             .join(entities).order_by(mentions.c.start)).all()
    assert [(t, n) for t, _s, _e, n in spans] == [
        ("Alexander Lukashenko", "Alexander Lukashenko"), ("Vladimir Putin", "Vladimir Putin"),
        ("Minsk", "Minsk"), ("Lukashenko's", "Alexander Lukashenko")]
    assert all(a.body[s:e] == t for t, s, e, _n in spans)


def test_same_batch_twice_changes_nothing(engine: sa.Engine) -> None:
    batch = [(*minsk(), Position("t", 0, 1)), (*kyiv(), Position("t", 1, 7))]
    first = write_batch(engine, batch, extractor_version=V1)
    before = dump(engine)
    second = write_batch(engine, batch, extractor_version=V1)
    assert dump(engine) == before  # same rows, same ids, same timestamps
    assert (first.articles, first.unchanged) == (2, 0)
    assert (second.articles, second.unchanged) == (0, 2)
    assert (second.entities_new, second.mentions, second.events) == (0, 0, 0)
    assert {t: len(rows) for t, rows in before.items()} == {
        "articles": 2, "entities": 5, "entity_aliases": 6, "mentions": 7, "events": 4,
        "article_entities": 6, "entity_stats": 5, "places": 0, "article_places": 0,  # no geo in these records
        "stories": 2, "story_events": 3, "story_merges": 0,  # Minsk and Kyiv: two stories, nothing merged
        "entity_labels": 6, "entity_forms": 6, "entity_label_history": 5, "entity_merges": 0}  # 0008


def test_reextraction_replaces_mentions_and_events(engine: sa.Engine) -> None:
    a, x = minsk()
    b, y = kyiv()
    write_batch(engine, [(a, x, None), (b, y, None)], extractor_version=V1)
    # a newer extractor drops Minsk, keeps one event and changes its type
    x2 = Extraction(entities=x.entities[:2], events=[replace(x.events[0], type="MEET", location=None)])
    stats = write_batch(engine, [(a, x2, Position("t", 0, 99))], extractor_version="test-extractor-2")
    assert (stats.articles, stats.mentions, stats.events) == (1, 3, 1)
    got = {}
    with engine.connect() as conn:
        for art_id in (a.id, b.id):
            got[art_id] = (
                conn.execute(sa.select(mentions.c.text).where(mentions.c.article_id == art_id)
                             .order_by(mentions.c.start)).scalars().all(),
                conn.execute(sa.select(events.c.type).where(events.c.article_id == art_id)
                             .order_by(events.c.seq)).scalars().all())
        version, offset = conn.execute(sa.select(articles.c.extractor_version, articles.c.kafka_offset)
                                       .where(articles.c.id == a.id)).one()
    assert got[a.id] == (["Alexander Lukashenko", "Vladimir Putin", "Lukashenko's"], ["MEET"])
    assert got[b.id] == (["Lukashenko", "Kyiv", "Zelensky"], ["THREATEN", "REJECT"])  # untouched
    assert (version, offset) == ("test-extractor-2", 99)
    assert count(engine, articles) == 2


@pytest.mark.parametrize("one_batch", [False, True], ids=["two-batches", "one-batch"])
def test_short_name_resolves_to_the_entity_it_is_an_alias_of(engine: sa.Engine, one_batch: bool) -> None:
    items = [(*minsk(), None), (*kyiv(), None)]
    if one_batch:
        write_batch(engine, items, extractor_version=V1)
    else:
        for item in items:
            write_batch(engine, [item], extractor_version=V1)
    with engine.connect() as conn:
        names = conn.execute(sa.select(entities.c.name).order_by(entities.c.name)).scalars().all()
        per_entity = dict(conn.execute(sa.select(entities.c.name, sa.func.count(mentions.c.id))
                                       .join(mentions).group_by(entities.c.name)).all())
        actors = conn.execute(sa.select(events.c.actor_id).where(events.c.type.in_(["CONSULT", "THREATEN"])))
        actor_ids = set(actors.scalars())
    assert "Lukashenko" not in names
    assert names == ["Alexander Lukashenko", "Kyiv", "Minsk", "Vladimir Putin", "Zelensky"]
    assert per_entity["Alexander Lukashenko"] == 3  # full name, "Lukashenko's" and "Lukashenko" in Kyiv
    assert len(actor_ids) == 1
    for query in ("lukashenko", "LUKASHENKO", "Lukashenko's", " Alexander  Lukashenko "):
        found = resolve_entity(engine, query)
        assert found is not None and found["name"] == "Alexander Lukashenko", query


def test_alias_only_merges_within_the_same_label(engine: sa.Engine) -> None:
    write_batch(engine, [(*minsk(), None)], extractor_version=V1)
    a = make_article("Lukashenko Holdings reported profits.", url="https://news.example/corp")
    x = Extraction(entities=[entity(a, "Lukashenko", "ORG")])
    stats = write_batch(engine, [(a, x, None)], extractor_version=V1)
    assert stats.entities_new == 1
    assert resolve_entity(engine, "lukashenko", "ORG")["name"] == "Lukashenko"
    assert resolve_entity(engine, "lukashenko", "PERSON")["name"] == "Alexander Lukashenko"


def test_a_bad_item_is_rejected_and_the_rest_of_the_batch_is_written(engine: sa.Engine) -> None:
    good1, good2 = minsk(), kyiv()
    bad_a = make_article("Short text about Minsk.", url="https://news.example/bad")
    bad_x = Extraction(entities=[Entity("Minsk", "GPE", [Mention("Minsk", 17, 400)])])  # runs past the body
    nul_a = make_article("Text about Gomel.", url="https://news.example/nul")
    nul_x = Extraction(entities=[Entity("Gom\x00el", "GPE", [Mention("Gomel", 11, 16)])])
    odd_a = make_article("Nothing happened.", url="https://news.example/odd")
    odd_x = Extraction(events=[event(odd_a, "OTHER", "happened", modality="rumoured")])
    pos = Position("t", 0, 5)
    stats = write_batch(engine, [(*good1, None), (bad_a, bad_x, pos), (nul_a, nul_x, None),
                                 (odd_a, odd_x, None), (*good2, None)], extractor_version=V1)
    assert [(r.index, r.article_id) for r in stats.rejected] == [(1, bad_a.id), (2, nul_a.id), (3, odd_a.id)]
    assert "past the end of the body" in stats.rejected[0].reason and stats.rejected[0].position == pos
    assert "NUL" in stats.rejected[1].reason and "modality" in stats.rejected[2].reason
    assert {r.code for r in stats.rejected} == {"store_rejected"}  # one Refusal type, its code from pipeline.reasons
    assert stats.rejected[0].origin == pos.origin and stats.rejected[1].origin == f"article {nul_a.id}"
    assert stats.articles == 2
    with engine.connect() as conn:
        ids = set(conn.execute(sa.select(articles.c.id)).scalars())
    assert ids == {good1[0].id, good2[0].id}


def test_same_article_twice_in_one_batch_keeps_the_later_copy(engine: sa.Engine) -> None:
    a, x = minsk()
    stats = write_batch(engine, [(a, x, Position("t", 0, 1)), (a, Extraction(entities=x.entities[:1]),
                                                                 Position("t", 0, 2))], extractor_version=V1)
    assert (stats.articles, stats.mentions, stats.events) == (1, 2, 0)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(articles.c.kafka_offset)) == 2
    assert count(engine, mentions) == 2 and count(engine, events) == 0


def test_two_spans_claiming_the_same_characters_are_stored_once(engine: sa.Engine) -> None:
    a = make_article("Minsk is the capital.", url="https://news.example/dup")
    x = Extraction(entities=[entity(a, "Minsk", "GPE"), entity(a, "Minsk", "LOC")])
    stats = write_batch(engine, [(a, x, None)], extractor_version=V1)
    assert stats.mentions == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(entities.c.label).join(mentions)).scalars().all() == ["GPE"]


def write_in_lockstep(engine: sa.Engine, batch_for: Any, rounds: int,
                      version: Any = lambda worker, round_: V1) -> None:
    """Two threads call ``write_batch`` at the same moment, round after round (a barrier before
    each): ``batch_for(worker, round_)`` gives the items, ``version(worker, round_)`` the extractor
    version. Fails with the first error either thread met."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(worker: int) -> None:
        try:
            for r in range(rounds):
                items = batch_for(worker, r)
                barrier.wait(timeout=30)
                write_batch(engine, items, extractor_version=version(worker, r))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def test_concurrent_writers_share_new_entities(engine: sa.Engine) -> None:
    """Two workers write different articles naming the same new entities at the same moment."""
    rounds = 6

    def articles_for(worker: int, round_: int) -> list[tuple[Article, Extraction, None]]:
        out = []
        for k in range(3):
            a = make_article(f"Round {round_} story {k}: "
                             "Sviatlana Tsikhanouskaya met Kaja Kallas in Vilnius.",
                             url=f"https://news.example/{worker}/{round_}/{k}")
            x = Extraction(entities=[entity(a, f"Sviatlana Tsikhanouskaya {round_}", "PERSON",
                                            "Sviatlana Tsikhanouskaya"),
                                     entity(a, f"Kaja Kallas {round_}", "PERSON", "Kaja Kallas"),
                                     entity(a, f"Vilnius {round_}", "GPE", "Vilnius")])
            out.append((a, x, None))
        return out

    write_in_lockstep(engine, articles_for, rounds)
    assert count(engine, articles) == 2 * rounds * 3
    assert count(engine, entities) == 3 * rounds  # one row per (name, label), never two
    assert count(engine, mentions) == 2 * rounds * 3 * 3
    with engine.connect() as conn:  # both workers' "Vilnius" of one round point at one entity
        per_round = conn.execute(sa.select(sa.func.count(sa.distinct(mentions.c.entity_id)))
                                 .where(mentions.c.text == "Vilnius")).scalar()
        aliases = conn.scalar(sa.select(sa.func.count()).select_from(entity_aliases)
                              .where(entity_aliases.c.alias == "vilnius"))
    assert per_round == rounds and aliases == 1
