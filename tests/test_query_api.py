"""The analyst queries (pipeline.store.query) on SQLite and PostgreSQL, on hand-built articles."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from pipeline.article import Article
from pipeline.errors import ConfigError
from pipeline.records import Extraction
from pipeline.store.db import make_engine
from pipeline.store.query import (
    AmbiguousArticle,
    Period,
    UnknownArticle,
    UnknownEntity,
    abbreviations,
    article_detail,
    cooccurrence,
    entity_profile,
    event_types,
    search_articles,
    search_events,
    timeline,
    top_entities,
    undated,
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


LONG_IDS = {"twin_a": "feedface00a" + "1" * 45, "twin_b": "feedface00b" + "2" * 45}  # 56 characters, as sha224


def twin(name: str) -> tuple[Article, Extraction]:
    """An article with a long given id that shares its first 10 characters with the other twin's."""
    a = Article.build(id=LONG_IDS[name], body=f"Protesters in Minsk blocked the {name} road.", title=name,
                      url=f"https://long.example/{name}", published="2024-02-01", source="long-wire")
    return a, Extraction(entities=[entity(a, "Minsk", "GPE")], events=[event(a, "PROTEST", "blocked",
                                                                              actor="Protesters")])


def load_twins(engine: sa.Engine) -> dict[str, str]:
    """The two articles with long ids, sharing a 10-character prefix."""
    write_batch(engine, [(a, x, Position("news", 1, i)) for i, (a, x) in enumerate((twin("twin_a"), twin("twin_b")))],
                extractor_version=V1)
    return dict(LONG_IDS)


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
                       "url": "https://other.example/markets", "country": None}  # no geo in these records
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


def test_events_carry_their_sentence(engine: sa.Engine, ids: dict[str, str]) -> None:
    rows = search_events(engine, actor="lukashenko")
    assert [r["sentence"] for r in rows] == ["Lukashenko warned Kyiv on Monday.",
                                             "Belarusian President Alexander Lukashenko met Vladimir Putin in Minsk "
                                             "on Friday."]
    assert entity_profile(engine, "lukashenko")["recent_events"][0]["sentence"] == rows[0]["sentence"]


def test_event_types_lists_the_stored_types_by_frequency(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert [(r["type"], r["events"]) for r in event_types(engine)] == [
        ("CONSULT", 2), ("PROTEST", 1), ("REJECT", 1), ("THREATEN", 1)]


def test_undated_counts_what_the_timeline_leaves_out(engine: sa.Engine, ids: dict[str, str]) -> None:
    assert undated(engine, "minsk") == {"mentions": 1, "articles": 1}  # the decoy
    assert undated(engine, "lukashenko") == {"mentions": 0, "articles": 0}
    assert entity_profile(engine, "minsk")["undated"] == {"mentions": 1, "articles": 1}
    assert entity_profile(engine, "minsk", period=Period(since=date(2024, 1, 1)))["undated"] == {
        "mentions": 0, "articles": 0}  # undated articles are in no period
    with pytest.raises(UnknownEntity):
        undated(engine, "Atlantis")


# -- one article, short ids ------------------------------------------------------------------------


def test_abbreviations_are_prefixes_no_other_stored_id_has(engine: sa.Engine, ids: dict[str, str]) -> None:
    long = load_twins(engine)
    short = abbreviations(engine, [*ids.values(), *long.values()])
    assert {i: short[i] for i in ids.values()} == {i: i[:8] for i in ids.values()}
    assert short[long["twin_a"]] == "feedface00a" and short[long["twin_b"]] == "feedface00b"  # as git does
    assert abbreviations(engine, [long["twin_a"]]) == {long["twin_a"]: "feedface00a"}  # others stored count
    assert abbreviations(engine, ["abc"]) == {"abc": "abc"}


def test_article_detail_by_id_or_unique_prefix(engine: sa.Engine, ids: dict[str, str]) -> None:
    long = load_twins(engine)
    d = article_detail(engine, ids["minsk"])
    assert d["article"]["id"] == ids["minsk"] and d["article"]["title"] == "Lukashenko meets Putin"
    assert d["article"]["authors"] == ["A. Writer"] and d["article"]["url"] == "https://news.example/minsk"
    assert [(e["name"], e["mentions"], e["texts"]) for e in d["entities"]] == [
        ("Alexander Lukashenko", 2, ["Alexander Lukashenko", "Lukashenko's"]), ("Minsk", 1, ["Minsk"]),
        ("Vladimir Putin", 1, ["Vladimir Putin"])]
    assert d["entities"][0]["spans"][0] == {"field": "body", "start": 21, "end": 41, "text": "Alexander Lukashenko"}
    assert [(e["type"], e["trigger"], e["sentence"][:10]) for e in d["events"]] == [
        ("CONSULT", "met", "Belarusian"), ("PROTEST", "gathered", "Belarusian")]
    assert d["story"] is not None and d["story"]["id"] == d["article"]["story_id"]
    assert d["story"]["headline"] == "Lukashenko meets Putin"
    assert article_detail(engine, ids["minsk"][:6]) == d  # a prefix of 6 characters is enough
    assert article_detail(engine, "feedface00b")["article"]["id"] == long["twin_b"]
    with pytest.raises(AmbiguousArticle) as exc:
        article_detail(engine, "feedface")
    assert [c["id"] for c in exc.value.candidates] == [long["twin_a"], long["twin_b"]]
    assert long["twin_a"] in str(exc.value) and long["twin_b"] in str(exc.value)
    with pytest.raises(UnknownArticle, match="at least 6 characters"):
        article_detail(engine, ids["minsk"][:5])
    with pytest.raises(UnknownArticle, match="no article id starts with 'ffffff'"):
        article_detail(engine, "ffffff")
    with pytest.raises(UnknownArticle):
        article_detail(engine, ids["minsk"][:8].upper())  # ids are matched exactly, case and all


def test_a_file_path_for_a_database_url_gets_a_hint() -> None:
    with pytest.raises(ConfigError, match=re.escape("sqlite:////tmp/x.db")):
        make_engine("/tmp/x.db")
    with pytest.raises(ConfigError, match=re.escape("sqlite:///news.db")):
        make_engine("news.db")


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(Exception, match="the period is empty"):
        Period(date(2024, 3, 5), date(2024, 3, 1))
