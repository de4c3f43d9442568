"""Bad input written to the topic as raw bytes: each message is stored correctly or dead-lettered with
its reason, and the good messages around them are all stored (real broker; SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from consumers.worker import Worker
from pipeline.article import Article, encode
from pipeline.config import Settings
from pipeline.extract import load_nlp
from pipeline.metrics import Metrics
from pipeline.store.db import make_engine
from tests.fixtures_kafka import read_topic
from tests.pipeline_helpers import send_raw, synthetic_articles

pytestmark = pytest.mark.kafka

GERMAN = ("Die Bundesregierung hat am Montag in Berlin einen neuen Plan für die Energiewende vorgestellt. "
          "Der Minister sagte, dass die Kosten für die Verbraucher nicht steigen würden, und die Opposition "
          "kritisierte den Entwurf als zu spät und zu wenig ehrgeizig für das Land.")
HTML_PAGE = ("<!DOCTYPE html><html><head><title>Home</title></head><body><div class='nav'><a href='/'>Home</a>"
             "</div><p>Subscribe to our newsletter</p><script>track()</script></body></html>")


def v1(**fields: object) -> bytes:
    return json.dumps({"schema_version": 1, **fields}).encode()


def test_every_kind_of_bad_input_is_stored_or_dead_lettered_with_its_reason(kafka_settings: Settings,
                                                                            db_url: str) -> None:
    s = kafka_settings
    good = synthetic_articles(6, seed=11)
    first = Article.build(body="Mayor Lena Petrov opened a bridge in Riga on Monday.", id="same-id")
    second = Article.build(body="Mayor Lena Petrov closed the old bridge in Riga on Tuesday.", id="same-id")
    bad: list[tuple[bytes | None, bytes | None, str]] = [
        (b"k1", b"{this is not json", "dlq:bad_json"),
        (b"k2", b"[\"an\", \"array\"]", "dlq:bad_shape"),
        (b"k3", json.dumps({"schema_version": 2, "id": "x", "body": "text"}).encode(), "dlq:bad_schema_version"),
        (b"k4", v1(id="no-body", title="Missing"), "dlq:missing_body"),
        (b"k5", v1(id="empty", body="   \n "), "dlq:empty_body"),
        (b"k6", v1(id="huge", body="word " * 1_000_000), "dlq:body_too_large"),
        (b"k7", bytes(range(256)) * 4, "dlq:bad_encoding"),
        (b"k8", b'{"schema_version": 1, "id": "latin", "body": "caf\xe9 in Paris"}', "dlq:bad_encoding"),
        (None, encode(Article.build(body="Officials in Quito said the dam held.", id="null-key")), "stored"),
        (b"k10", v1(id="html", body=HTML_PAGE), "dlq:html_body"),
        (b"k11", encode(Article.build(body=GERMAN, id="german")), "stored"),
        (b"same-id", encode(first), "stored"),
        (b"same-id", encode(second), "stored"),
    ]
    send_raw(s.bootstrap_servers, s.topic, [(a.id.encode(), encode(a)) for a in good[:3]]
             + [(key, value) for key, value, _ in bad] + [(a.id.encode(), encode(a)) for a in good[3:]], partition=0)

    metrics = Metrics(registry=CollectorRegistry())
    engine = make_engine(db_url)
    stats = Worker(s, engine=engine, nlp=load_nlp(), metrics=metrics).run(until_idle=4)

    expected_dlq = [why.split(":")[1] for _k, _v, why in bad if why.startswith("dlq:")]
    assert stats.consumed == len(good) + len(bad)
    assert stats.dead_lettered == len(expected_dlq) == 9
    with engine.connect() as conn:
        ids = set(conn.execute(sa.text("select id from articles")).scalars())
        latest = conn.execute(sa.text("select body from articles where id = 'same-id'")).scalar_one()
        german = conn.execute(sa.text("select language from articles where id = 'german'")).scalar_one()
        german_mentions = conn.execute(sa.text("select count(*) from mentions where article_id = 'german'")).scalar()
    assert ids == {a.id for a in good} | {"null-key", "german", "same-id"}
    assert latest == second.body  # the same id with new content: the later message wins, one row
    assert german == "de" and german_mentions == 0  # flagged, not read by the English model

    dead = read_topic(s.bootstrap_servers, f"{s.topic}.dlq", expect=len(expected_dlq))
    reasons = {}
    for m in dead:
        headers = dict(m.headers)
        reasons[m.key] = headers["dlq.error.message"].decode()
        assert headers["dlq.source.topic"].decode() == s.topic and headers["dlq.attempts"] == b"1"
    assert "over the limit" in reasons[b"k6"] and "HTML" in reasons[b"k10"]
    for code in set(expected_dlq):
        assert metrics.registry.get_sample_value("newsstream_dlq_messages_total", {"reason": code}) == \
            expected_dlq.count(code)


def json_v1(text: str) -> bytes:
    """A schema v1 object from raw JSON text (so that escapes such as a lone surrogate reach the topic as is)."""
    return ('{"schema_version": 1, ' + text + "}").encode()


# Each of these once crashed the worker (or would have): the batch was never committed, the
# partition blocked, and the good articles behind them were never stored.
POISON: list[tuple[str, bytes | None, str, str]] = [
    ("lone surrogate", json_v1('"id": "p1", "body": "Text.", "title": "\\ud800"'), "invalid_field", "InvalidArticle"),
    ("100,000 brackets", b"[" * 100_000, "bad_json", "InvalidArticle"),
    ("5,000-digit number", json_v1('"id": "p3", "body": "Text.", "n": ' + "7" * 5000), "bad_json", "InvalidArticle"),
    ("key named origin", json_v1('"id": "p4", "body": "Text.", "origin": "x"'), "invalid_field", "InvalidArticle"),
    ("key named max_body_bytes", json_v1('"id": "p5", "body": "Text.", "max_body_bytes": 1'), "invalid_field",
     "InvalidArticle"),
    ("port out of range, no id", json_v1('"body": "Text.", "url": "http://x.example:99999/a"'), "invalid_field",
     "InvalidArticle"),
    ("broken IPv6 URL", json_v1('"body": "Text.", "url": "http://[::1/x"'), "invalid_field", "InvalidArticle"),
    ("50,000 nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "bad_json", "InvalidArticle"),
    ("NaN body", json_v1('"id": "p9", "body": NaN'), "missing_body", "InvalidArticle"),
    ("infinite date", json_v1('"id": "p10", "body": "Text.", "published": 1e400'), "bad_date", "InvalidArticle"),
    ("authors as an object", json_v1('"id": "p11", "body": "Text.", "authors": {"a": 1}'), "invalid_field",
     "InvalidArticle"),
    ("id of 10,000 characters", json_v1('"id": "' + "i" * 10_000 + '", "body": "Text."'), "invalid_field",
     "InvalidArticle"),
    ("empty value", b"", "bad_json", "InvalidArticle"),
    ("tombstone (no value)", None, "no_value", "InvalidArticle"),
    ("schema version as text", b'{"schema_version": "1", "id": "p15", "body": "Text."}', "bad_schema_version",
     "InvalidArticle"),
    ("language as a list", json_v1('"id": "p16", "body": "Text.", "language": ["en"]'), "invalid_field",
     "InvalidArticle"),
]


def test_poison_payloads_are_dead_lettered_and_the_articles_behind_them_stored(kafka_settings: Settings,
                                                                                db_url: str) -> None:
    s = kafka_settings
    good = synthetic_articles(10, seed=23)
    messages = [(f"poison-{i}".encode(), value) for i, (_n, value, _c, _k) in enumerate(POISON)]
    send_raw(s.bootstrap_servers, s.topic, messages + [(a.id.encode(), encode(a)) for a in good], partition=0)

    metrics = Metrics(registry=CollectorRegistry())
    engine = make_engine(db_url)
    stats = Worker(s, engine=engine, nlp=load_nlp(), metrics=metrics).run(until_idle=3)

    assert (stats.consumed, stats.dead_lettered, stats.processed) == (len(POISON) + 10, len(POISON), 10)
    with engine.connect() as conn:
        assert set(conn.execute(sa.text("select id from articles")).scalars()) == {a.id for a in good}
    dead = {m.key: dict(m.headers) for m in read_topic(s.bootstrap_servers, f"{s.topic}.dlq", expect=len(POISON))}
    for i, (name, _value, code, error_class) in enumerate(POISON):
        headers = dead[f"poison-{i}".encode()]
        assert (headers["dlq.reason"].decode(), headers["dlq.error.class"].decode()) == (code, error_class), name
        assert headers["dlq.source.offset"] == str(i).encode()
        assert headers["dlq.error.message"], name
    assert stats.lag_left == 0
