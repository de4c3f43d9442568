"""Generated hostile inputs through every source: files, JSON, feeds, stdin and HTTP.

Nothing may raise, and nothing may go unaccounted: every input comes out as articles or as
rejections with a reason code, and the counts add up. The kinds are listed in docs/fuzz.md.
HTTP: every kind is posted to a real ``serve-ingest`` (against the real broker), as text and as JSON.
"""

from __future__ import annotations

import io
import random
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from pipeline.article import Article
from pipeline.config import Settings
from pipeline.parsing import Rejected, read_articles
from pipeline.parsing.feeds import parse_feed
from tests.test_ingest_http import Ingest
from tests.test_produce import topic_size

GOOD = b'{"title": "Bridge", "body": "The council approved the bridge on Monday.", "url": "https://x.org/good"}'
# (kind, bytes). Each is one input; it is followed by a good record so that reading must go on.
KINDS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("only whitespace", b" \n\t\r\n" * 100),
    ("NUL bytes", b"date 2024-01-01 x\n\nText\x00more"),
    ("UTF-16 without BOM", "date 2024-01-01 x\n\nText".encode("utf-16-le")),
    ("UTF-16 with BOM", "\ufeffdate 2024-01-01 x\n\nText here.".encode("utf-16")),
    ("invalid UTF-8", b"date 2024-01-01 x\n\n\xff\xfe\xfa\xc3\x28 text"),
    ("lone surrogate escaped in JSON", b'{"body": "a\\ud800b"}'),
    ("100,000 [", b"[" * 100_000),
    ("100,000 {", b"{" * 100_000),
    ("5,000-digit number", b'{"body": "x", "published": ' + b"9" * 5000 + b"}"),
    ("truncated JSON", b'{"body": "cut'),
    ("JSON array with garbage after", b'[{"body": "ok text here"}] trailing'),
    ("JSON scalar", b"42"),
    ("JSON array of scalars", b"[1, 2, null, true]"),
    ("body of the wrong type", b'{"body": ["a", "b"]}'),
    ("unknown schema version", b'{"schema_version": 7, "body": "x"}'),
    ("date that names no day", b'{"body": "text", "published": "2024"}'),
    ("date with an unknown zone", b'{"body": "text", "published": "2024-03-12 10:00 XYZ"}'),
    ("date far out of range", b'{"body": "text", "published": "31/02/99999"}'),
    ("URL that cannot be parsed", b'{"body": "text", "url": "http://[::1"}'),
    ("URL with a port out of range", b'{"body": "text", "url": "http://x:99999/a"}'),
    ("huge language value", b'{"body": "text", "language": "' + b"x" * 100_000 + b'"}'),
    ("keys named like arguments", b'{"body": "text", "origin": "x", "max_body_bytes": 1}'),
    ("body over the size limit", b'{"body": "' + b"a" * 1_100_000 + b'"}'),
    ("whitespace run before an author code", b"date 2024-01-01 x\n\nText" + b" " * 200_000 + b"(ab)\n"),
    ("whitespace run in the breadcrumb", b"date 2024-01-01 a" + b" " * 200_000 + b"b\n\nText.\n"),
    ("plain text without a header", b"Just some words without the header line."),
    ("header with a bad date", b"date 2024-13-45 x\n\nText.\n"),
    ("only boilerplate", b'{"body": "CLOSE\\nAdvertisement\\nRead More"}'),
    ("control characters", b'{"body": "\\u0001\\u0002\\u001b[31m red \\u007f"}'),
    ("random bytes", bytes(random.Random(16).randrange(256) for _ in range(20_000))),
    ("random printable junk", bytes(random.Random(18).choice(b"{}[]\",:<>&;\\ \nabc019") for _ in range(20_000))),
    ("HTML page instead of JSON", b"<html><body><a<a<a<a" + b"<a" * 50_000 + b"</body></html>"),
    ("JSON lines with a bad line in the middle", GOOD + b"\n{bad\n" + GOOD.replace(b"good", b"good2")),
]
FEEDS: list[tuple[str, bytes]] = [
    ("feed: not XML", b"not xml at all <"),
    ("feed: billion laughs", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                             b"<rss><channel><item><description>&b;</description></item></channel></rss>"),
    ("feed: '<a' repeated in a description", b"<rss><channel><item><description>" + b"&lt;a" * 100_000
                                             + b"</description></item></channel></rss>"),
    ("feed: item without text", b"<rss><channel><item><title>T</title></item></channel></rss>"),
    ("feed: item with a bad date", b"<rss><channel><item><description>Text.</description><pubDate>Tuesday"
                                   b"</pubDate></item></channel></rss>"),
    ("feed: deep nesting", b"<rss><channel><item><description>" + b"&lt;div&gt;" * 50_000
                           + b"x</description></item></channel></rss>"),
]


def account(items: list[Article | Rejected]) -> tuple[int, int]:
    for item in items:
        assert isinstance(item, (Article, Rejected)), item
        if isinstance(item, Rejected):
            assert item.code and item.reason, item
    return sum(isinstance(i, Article) for i in items), sum(isinstance(i, Rejected) for i in items)


@pytest.mark.parametrize(("kind", "data"), KINDS, ids=[k for k, _ in KINDS])
def test_a_hostile_file_is_accepted_or_rejected_with_a_reason_and_reading_goes_on(tmp_path: Path, kind: str,
                                                                                   data: bytes) -> None:
    bad, good = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    bad.write_bytes(data)
    good.write_bytes(GOOD + b"\n")
    start = time.monotonic()
    items = list(read_articles([str(bad), str(good)]))
    assert time.monotonic() - start < 10
    accepted, rejected = account(items)
    assert accepted + rejected == len(items) >= 2
    assert isinstance(items[-1], Article) and items[-1].url == "https://x.org/good"  # reading went on


@pytest.mark.parametrize(("kind", "data"), KINDS, ids=[k for k, _ in KINDS])
def test_a_hostile_stdin_is_accepted_or_rejected_with_a_reason(kind: str, data: bytes) -> None:
    items = list(read_articles(["-"], stdin=io.BytesIO(data)))
    accepted, rejected = account(items)
    assert accepted + rejected == len(items) >= 1
    assert all(r.origin.startswith("<stdin>") for r in items if isinstance(r, Rejected))


@pytest.mark.parametrize(("kind", "data"), FEEDS, ids=[k for k, _ in FEEDS])
def test_a_hostile_feed_is_accepted_or_rejected_with_a_reason(kind: str, data: bytes) -> None:
    items = list(parse_feed(data, "https://x.org/rss"))
    accepted, rejected = account(items)
    assert accepted + rejected == len(items) >= 1


def test_the_counts_add_up_over_all_kinds_in_one_directory(tmp_path: Path) -> None:
    for number, (_, data) in enumerate(KINDS):
        (tmp_path / f"{number:02d}.jsonl").write_bytes(data)
    items = list(read_articles([str(tmp_path)]))
    accepted, rejected = account(items)
    assert accepted + rejected == len(items)
    assert rejected >= len(KINDS) - 8  # most kinds are refused
    origins = {i.origin.split(":")[0] for i in items if isinstance(i, Rejected)}
    files = {str(tmp_path / f"{n:02d}.jsonl") for n in range(len(KINDS))}
    assert origins <= files


def answered(status: int, answer: Any) -> tuple[int, int, int]:
    """(new articles, duplicates, refusals) of one answer of serve-ingest, checking that it is a clean
    2xx or 4xx whose every refusal carries a reason code."""
    assert 200 <= status < 500, (status, answer)
    assert isinstance(answer, dict), (status, answer)
    rejected = answer.get("rejected", [])
    assert all(r["code"] and r["reason"] for r in rejected), answer
    if status < 300:
        return answer["accepted"], len(answer["duplicates"]), len(rejected)
    assert answer.get("code") or rejected, answer  # a reason for the whole request, or for each record
    return 0, 0, len(rejected) or 1


@pytest.mark.kafka
def test_hostile_http_bodies_get_clean_answers_with_reasons_and_the_counts_add_up(kafka_settings: Settings,
                                                                                  tmp_path: Path) -> None:
    server = Ingest(kafka_settings, tmp_path / "state", "--max-request-bytes", "2000000")
    bodies = [(data, ctype) for _, data in KINDS for ctype in ("text/plain", "application/json")]
    totals = [0, 0, 0]
    try:
        for data, ctype in bodies:
            status, answer = server.post(data, ctype)  # a dropped connection raises here
            totals = [a + b for a, b in zip(totals, answered(status, answer), strict=True)]
        try:  # over the request limit: answered 413, or the connection closed while the body was still coming
            status, answer = server.post(b'{"body": "' + b"a" * 3_000_000 + b'"}')
            assert status == 413, (status, answer)
        except (ConnectionError, urllib.error.URLError) as exc:
            assert isinstance(exc, ConnectionError) or isinstance(exc.reason, ConnectionError), exc
        totals[2] += 1
        bodies.append((b"", "oversized"))
        assert server.request("/healthz") == (200, {"status": "ok", "delivery": "running"})
        status, answer = server.post(GOOD.replace(b"good", b"after"))
        assert status == 202 and answer["accepted"] == 1  # still serving
    finally:
        out, err = server.stop()
    sent, duplicates, rejected = totals[0] + 1, totals[1], totals[2]
    assert server.proc.returncode == 0, err
    assert out.strip().startswith(f"sent {sent}, duplicates {duplicates}, rejected {rejected}"), (out, totals)
    assert topic_size(kafka_settings.bootstrap_servers, kafka_settings.topic) == sent
    assert sent >= 3 and rejected >= len(bodies) - 20
