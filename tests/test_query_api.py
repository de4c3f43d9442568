"""The analyst queries (pipeline.store.query) on SQLite and PostgreSQL, on hand-built articles."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from pipeline.article import Article
from pipeline.extract.records import Extraction
from pipeline.store.query import (
    Period,
    UnknownEntity,
    cooccurrence,
    entity_profile,
    search_articles,
    search_events,
    timeline,
    top_entities,
)
from pipeline.store.writer import Position, write_batch
from tests.test_store_writer import V1, entity, event, kyiv, minsk


def markets() -> tuple[Article, Extraction]:
    """Another source and section, and text with LIKE wildcards in it: "50%", "deal_2"."""
    a = Article.build(body="Putin visited Minsk again. Shares rose 50% after the deal_2 announcement.",
                      title="Markets after the visit", url="https://other.example/markets",
                      published="2024-04-10", source="other-wire", section="Business > Markets")
    x = Extraction(entities=[entity(a, "Vladimir Putin", "PERSON", "Putin"), entity(a, "Minsk", "GPE")],
                   events=[event(a, "CONSULT", "visited", actor="Putin", target="Minsk", modality="hypothetical")])
    return a, x


def decoy() -> tuple[Article, Extraction]:
    """Text the wildcards would match if they were not escaped: "500", "dealX2"; no date."""
    a = Article.build(body="Turnout was 500 voters. The dealX2 vote in Minsk failed.", title="Vote",
                      url="https://other.example/vote", published=None, source="other-wire", section="politics")
    return a, Extraction(entities=[entity(a, "Minsk", "GPE")])


def load(engine: sa.Engine) -> dict[str, str]:
    """Four articles; returns their ids by name."""
    items = {"minsk": minsk(), "kyiv": kyiv(), "markets": markets(), "decoy": decoy()}
    write_batch(engine, [(a, x, Position("news", 0, i)) for i, (a, x) in enumerate(items.values())],
                extractor_version=V1)
    return {k: a.id for k, (a, _x) in items.items()}


@pytest.fixture
def ids(engine: sa.Engine) -> dict[str, str]:
    return load(engine)


def ids_of(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


# -- articles -------------------------------------------------------------------------------------


def test_articles_newest_first_undated_last(engine: sa.Engine, ids: dict[str, str]) -> None:
    rows = search_articles(engine)
    assert ids_of(rows) == [ids["markets"], ids["kyiv"], ids["minsk"], ids["decoy"]]
    assert rows[0] == {"published": "2024-04-10", "source": "other-wire", "section": "Business > Markets",
                       "title": "Markets after the visit", "id": ids["markets"],
                       "url": "https://other.example/markets"}
    assert len(search_articles(engine, limit=2)) == 2


def test_articles_by_entity_name_any_case_through_aliases(engine: sa.Engine, ids: dict[str, str]) -> None:
    # "lukashenko" is an alias of "Alexander Lukashenko" (from "Lukashenko's" and the kyiv article)
    assert ids_of(search_articles(engine, entity="LUKASHENKO")) == [ids["kyiv"], ids["minsk"]]
    assert ids_of(search_articles(engine, entity="vladimir putin")) == [ids["markets"], ids["minsk"]]
    assert ids_of(search_articles(engine, entity="minsk", label="gpe")) == [
        ids["markets"], ids["minsk"], ids["decoy"]]
    with pytest.raises(UnknownEntity, match="no entity is called 'Lukaschenko'"):
        search_articles(engine, entity="Lukaschenko")
    with pytest.raises(UnknownEntity):
        search_articles(engine, entity="Minsk", label="PERSON")


def test_articles_by_source_section_and_dates(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert ids_of(search_articles(engine, source="other-wire")) == [ids["markets"], ids["decoy"]]
    assert search_articles(engine, source="OTHER-WIRE") == []  # the source is matched exactly
    assert ids_of(search_articles(engine, section="markets")) == [ids["markets"]]  # substring, any case
    march = Period(date(2024, 3, 1), date(2024, 3, 4))  # both ends inclusive
    assert ids_of(search_articles(engine, period=march)) == [ids["kyiv"], ids["minsk"]]
    assert ids_of(search_articles(engine, period=Period(since=date(2024, 3, 2)))) == [ids["markets"], ids["kyiv"]]
    assert ids_of(search_articles(engine, period=Period(until=date(2024, 3, 1)))) == [ids["minsk"]]
    assert ids_of(search_articles(engine, entity="lukashenko", period=Period(since=date(2024, 3, 2)))) == [ids["kyiv"]]


def test_text_search_is_case_insensitive_and_wildcards_are_plain_characters(
        engine: sa.Engine, ids: dict[str, str]) -> None:
    assert ids_of(search_articles(engine, text="PUTIN VISITED")) == [ids["markets"]]
    assert ids_of(search_articles(engine, text="markets after")) == [ids["markets"]]  # the title too
    assert ids_of(search_articles(engine, text="50%")) == [ids["markets"]]  # not the decoy's "500"
    assert ids_of(search_articles(engine, text="deal_2")) == [ids["markets"]]  # not "dealX2"
    assert ids_of(search_articles(engine, text="dealx2")) == [ids["decoy"]]
    # newest first, whether the newest days hold enough matches (limit=1) or not
    assert ids_of(search_articles(engine, text="minsk")) == [ids["markets"], ids["minsk"], ids["decoy"]]
    assert ids_of(search_articles(engine, text="minsk", limit=1)) == [ids["markets"]]
    assert ids_of(search_articles(engine, text="minsk", limit=2)) == [ids["markets"], ids["minsk"]]
    assert ids_of(search_articles(engine, text="MINSK", period=Period(until=date(2024, 4, 9)))) == [ids["minsk"]]
    assert ids_of(search_articles(engine, text="%")) == [ids["markets"]]  # the only "%" in the texts
    assert ids_of(search_articles(engine, text="_")) == [ids["markets"]]
    assert search_articles(engine, text="\\") == []


# -- entities, timeline, co-occurrence ------------------------------------------------------------


def test_top_entities_by_mentions_in_a_period_and_label(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert top_entities(engine, top=3) == [
        {"name": "Alexander Lukashenko", "label": "PERSON", "mentions": 3, "articles": 2},
        {"name": "Minsk", "label": "GPE", "mentions": 3, "articles": 3},
        {"name": "Vladimir Putin", "label": "PERSON", "mentions": 2, "articles": 2}]
    april = Period(date(2024, 4, 1), date(2024, 4, 30))
    assert [(r["name"], r["mentions"]) for r in top_entities(engine, period=april)] == [
        ("Minsk", 1), ("Vladimir Putin", 1)]
    assert [r["name"] for r in top_entities(engine, label="gpe")] == ["Minsk", "Kyiv"]
    assert top_entities(engine, period=Period(date(2030, 1, 1))) == []


def _top_from_mentions(engine: sa.Engine, period: Period, label: str | None = None) -> list[dict]:
    """The same answer straight from ``mentions`` (no kept counts), for comparison."""
    sql = ("SELECT e.name, e.label, count(*) AS mentions, count(DISTINCT m.article_id) AS articles "
           "FROM mentions m JOIN articles a ON a.id = m.article_id JOIN entities e ON e.id = m.entity_id "
           "WHERE a.published_date >= :since AND a.published_date <= :until AND (e.label = :label OR :any_label) "
           "GROUP BY e.name, e.label ORDER BY mentions DESC, e.name, e.label")
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), {
            "since": period.since or date(1, 1, 1), "until": period.until or date(9999, 12, 31),
            "label": label or "", "any_label": label is None}).mappings()]


def test_top_entities_in_long_periods_subtract_what_lies_outside(engine: sa.Engine, ids: dict[str, str]) -> None:
    # 3 of the 4 articles are dated in March-April 2024 (the decoy has no date): periods holding most of
    # them are answered as all-time totals minus the rows outside; the figures must not change
    everything = Period(date(2024, 1, 1), date(2024, 12, 31))
    assert top_entities(engine, period=everything) == [
        {"name": "Alexander Lukashenko", "label": "PERSON", "mentions": 3, "articles": 2},
        {"name": "Minsk", "label": "GPE", "mentions": 2, "articles": 2},  # not the undated decoy's
        {"name": "Vladimir Putin", "label": "PERSON", "mentions": 2, "articles": 2},
        {"name": "Kyiv", "label": "GPE", "mentions": 1, "articles": 1},
        {"name": "Zelensky", "label": "PERSON", "mentions": 1, "articles": 1}]
    for period in (everything, Period(since=date(2024, 3, 1)), Period(until=date(2024, 4, 10)),
                   Period(date(2024, 3, 2), date(2024, 4, 30)), Period(date(2024, 3, 1), date(2024, 3, 4))):
        for label in (None, "GPE", "PERSON"):
            assert top_entities(engine, period=period, label=label) == _top_from_mentions(engine, period, label)


def test_timeline_counts_mentions_per_publication_day(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert timeline(engine, "Lukashenko") == [{"day": "2024-03-01", "mentions": 2, "articles": 1},
                                              {"day": "2024-03-04", "mentions": 1, "articles": 1}]
    # the undated decoy article is left out of Minsk's timeline
    assert timeline(engine, "minsk") == [{"day": "2024-03-01", "mentions": 1, "articles": 1},
                                         {"day": "2024-04-10", "mentions": 1, "articles": 1}]
    assert timeline(engine, "minsk", period=Period(since=date(2024, 4, 1))) == [
        {"day": "2024-04-10", "mentions": 1, "articles": 1}]


def test_cooccurrence_ranks_entities_by_shared_articles(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert cooccurrence(engine, "minsk") == [
        {"name": "Vladimir Putin", "label": "PERSON", "articles": 2, "mentions": 2},
        {"name": "Alexander Lukashenko", "label": "PERSON", "articles": 1, "mentions": 2}]
    assert [r["name"] for r in cooccurrence(engine, "lukashenko")] == [
        "Kyiv", "Minsk", "Vladimir Putin", "Zelensky"]
    assert [r["name"] for r in cooccurrence(engine, "lukashenko", other_label="PERSON")] == [
        "Vladimir Putin", "Zelensky"]
    assert cooccurrence(engine, "minsk", period=Period(date(2024, 4, 10), date(2024, 4, 10)), top=5) == [
        {"name": "Vladimir Putin", "label": "PERSON", "articles": 1, "mentions": 1}]


def test_entity_profile_has_aliases_timeline_company_and_events(engine: sa.Engine, ids: dict[str, str]) -> None:
    prof = entity_profile(engine, "alexander LUKASHENKO")
    assert [(e["name"], e["label"], e["mentions"]) for e in prof["entities"]] == [
        ("Alexander Lukashenko", "PERSON", 3)]
    assert {a["alias"] for a in prof["aliases"]} == {"alexander lukashenko", "lukashenko"}
    assert [t["day"] for t in prof["timeline"]] == ["2024-03-01", "2024-03-04"]
    assert {c["name"] for c in prof["cooccurring"]} == {"Vladimir Putin", "Minsk", "Kyiv", "Zelensky"}
    assert [(e["published"], e["type"], e["actor"], e["target"]) for e in prof["recent_events"]] == [
        ("2024-03-04", "THREATEN", "Alexander Lukashenko", "Kyiv"),
        ("2024-03-01", "CONSULT", "Alexander Lukashenko", "Vladimir Putin")]
    with pytest.raises(UnknownEntity):
        entity_profile(engine, "Nobody Atall")


# -- events ---------------------------------------------------------------------------------------


def test_events_by_actor_target_type_modality_and_dates(engine: sa.Engine, ids: dict[str, str]) -> None:
    rows = search_events(engine, actor="lukashenko")
    assert [(r["type"], r["actor"], r["trigger"], r["target"]) for r in rows] == [
        ("THREATEN", "Alexander Lukashenko", "warned", "Kyiv"),
        ("CONSULT", "Alexander Lukashenko", "met", "Vladimir Putin")]
    assert rows[1]["location"] == "Minsk" and rows[1]["event_date"] == "2024-03-01"
    assert rows[1]["modality"] == "asserted" and rows[1]["negated"] is False
    assert rows[1]["article_id"] == ids["minsk"] and rows[1]["published"] == "2024-03-01"
    assert [r["actor"] for r in search_events(engine, target="MINSK")] == ["Vladimir Putin"]
    assert [r["trigger"] for r in search_events(engine, type_="consult")] == ["visited", "met"]
    assert [r["type"] for r in search_events(engine, modality="reported")] == ["REJECT"]
    assert [r["type"] for r in search_events(engine, modality="hypothetical")] == ["CONSULT"]
    march = Period(date(2024, 3, 2), date(2024, 3, 31))
    assert [r["type"] for r in search_events(engine, period=march)] == ["THREATEN", "REJECT"]
    # an actor that is not an entity keeps the extractor's text
    assert [r["actor"] for r in search_events(engine, type_="PROTEST")] == ["Protesters"]
    assert search_events(engine, actor="lukashenko", type_="PROTEST") == []
    with pytest.raises(UnknownEntity):
        search_events(engine, target="Atlantis")


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(Exception, match="the period is empty"):
        Period(date(2024, 3, 5), date(2024, 3, 1))
