"""`newsstream dlq list|replay` against dead letters on a real broker, written with the headers the worker sets."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import uuid

import pytest
from click.testing import CliRunner, Result

from newsstream_cli.dlq_cmd import dlq
from pipeline.bus.clients import BusProducer, dlq_topic, ensure_topic, read_topic
from pipeline.config import Settings

pytestmark = pytest.mark.kafka

LONG = "Expecting ',' delimiter: line 1 column 7 (char 6) " + "and then a great deal more detail " * 5


def dead_letter(reason: str, error_class: str, message: str, source_offset: int, *, key: bytes,
                value: bytes, topic: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers = [("source", b"rss:example"), ("dlq.reason", reason.encode()), ("dlq.error.class", error_class.encode()),
               ("dlq.error.message", message.encode()), ("dlq.source.topic", topic.encode()),
               ("dlq.source.partition", b"2"), ("dlq.source.offset", str(source_offset).encode()),
               ("dlq.attempts", b"1"), ("dlq.time", b"2024-05-01T10:00:00Z")]
    return key, value, headers


def write_dead_letters(s: Settings, topic: str, letters: list[tuple[int, tuple]]) -> None:
    """Each (dlq partition, (key, value, headers)) written as the worker would, every one acknowledged."""
    ensure_topic(s, dlq_topic(topic), partitions=2)
    producer = BusProducer(s)
    errors: list[str] = []
    try:
        for partition, (key, value, headers) in letters:
            producer.send(dlq_topic(topic), value, key=key, headers=headers, partition=partition,
                          on_ack=lambda err, _lat: errors.append(err) if err else None)
        assert producer.flush(30) == 0 and not errors, errors
    finally:
        producer.close()


def run(s: Settings, *args: str, topic: str | None = None) -> Result:
    sub, *rest = args
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        dlq, [sub, "--bootstrap-servers", s.bootstrap_servers, "--topic", topic or s.topic, *rest],
        prog_name="newsstream dlq")


@pytest.fixture
def letters(kafka_settings: Settings) -> Settings:
    t = kafka_settings.topic
    write_dead_letters(kafka_settings, t, [
        (0, dead_letter("bad_json", "JSONDecodeError", LONG, 11, key=b"k-json", value=b"{not json", topic=t)),
        (1, dead_letter("html_body", "InvalidArticle", "body is HTML", 12, key=b"k-html",
                        value=b'{"title": "t", "body": "<p>hi</p>"}', topic=t)),
        (1, dead_letter("bad_json", "JSONDecodeError", "Unterminated string", 13, key=b"k-json2",
                        value=b'{"title": "', topic=t)),
    ])
    return kafka_settings


def test_list_shows_every_dead_letter_in_json_and_csv(letters: Settings) -> None:
    res = run(letters, "list", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    t = letters.topic
    assert [(r["id"], r["source"], r["reason"], r["key"]) for r in rows] == [
        ("0:0", f"{t}[2]@11", "bad_json", "k-json"), ("1:0", f"{t}[2]@12", "html_body", "k-html"),
        ("1:1", f"{t}[2]@13", "bad_json", "k-json2")]
    assert rows[0]["error_class"] == "JSONDecodeError" and rows[0]["message"] == LONG
    assert rows[0]["time"] == "2024-05-01T10:00:00Z"

    res = run(letters, "list", "--format", "csv", "--reason", "bad_json")
    assert res.exit_code == 0, res.output
    table = list(csv.DictReader(io.StringIO(res.output)))
    assert [r["id"] for r in table] == ["0:0", "1:1"]
    assert list(table[0]) == ["id", "source", "reason", "error_class", "message", "time", "key"]
    assert table[0]["message"] == LONG  # whole in csv, shortened only in the table

    res = run(letters, "list", "--format", "json", "--limit", "1")
    assert [r["id"] for r in json.loads(res.output)] == ["0:0"]


def test_the_table_shortens_long_messages(letters: Settings) -> None:
    res = run(letters, "list")
    assert res.exit_code == 0, res.output
    assert "1:1" in res.output and "html_body" in res.output
    assert "…" in res.output and "great deal more detail" not in res.output


def test_replay_sends_the_chosen_one_back_with_its_headers(letters: Settings) -> None:
    res = run(letters, "replay", "--id", "1:0")
    assert res.exit_code == 0, res.output
    assert "replayed 1:0" in res.output and "replayed 1, failed 0" in res.output
    [msg] = read_topic(letters, letters.topic, expect=1, timeout=30)
    assert msg.key == b"k-html" and msg.value == b'{"title": "t", "body": "<p>hi</p>"}'
    replayed_from = f"{dlq_topic(letters.topic)}[1]@0".encode()
    assert msg.headers == [("source", b"rss:example"), ("dlq.replayed.from", replayed_from)]
    # the dead letters stay where they are
    assert len(json.loads(run(letters, "list", "--format", "json").output)) == 3


def test_replay_summary_as_json_or_csv_with_each_dead_letter_on_stderr(letters: Settings) -> None:
    res = run(letters, "replay", "--id", "1:0", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"chosen": 1, "replayed": 1, "failed": 0, "dry_run": False}
    [line] = [json.loads(x) for x in res.stderr.splitlines() if '"replay_sent"' in x]
    assert line["id"] == "1:0" and line["key"] == "k-html" and line["message"].startswith("replayed 1:0 ")
    assert len(read_topic(letters, letters.topic, expect=1, timeout=30)) == 1
    res = run(letters, "replay", "--reason", "bad_json", "--dry-run", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(res.stdout))) == [
        {"chosen": "2", "replayed": "0", "failed": "0", "dry_run": "True"}]
    assert "would replay 0:0" in res.stderr and "would replay 1:1" in res.stderr
    res = run(letters, "replay", "--reason", "no_such_reason", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["chosen"] == 0


def test_replay_by_reason_dry_run_sends_nothing(letters: Settings) -> None:
    res = run(letters, "replay", "--reason", "bad_json", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "would replay 0:0" in res.output and "would replay 1:1" in res.output and "1:0" not in res.output
    assert read_topic(letters, letters.topic, timeout=5) == []


def test_replay_all_sends_every_one(letters: Settings) -> None:
    res = run(letters, "replay", "--all")
    assert res.exit_code == 0, res.output
    got = read_topic(letters, letters.topic, expect=3, timeout=30)
    assert sorted(m.key or b"" for m in got) == [b"k-html", b"k-json", b"k-json2"]


def test_replay_refuses_unknown_ids_and_needs_one_way_of_choosing(letters: Settings) -> None:
    res = run(letters, "replay", "--id", "1:7")
    assert res.exit_code == 1 and "no dead letter 1:7" in res.output
    res = run(letters, "replay", "--id", "seven")
    assert res.exit_code == 2 and "PARTITION:OFFSET" in res.output
    res = run(letters, "replay")
    assert res.exit_code == 2 and "exactly one of --id, --reason or --all" in res.output
    res = run(letters, "replay", "--all", "--reason", "bad_json")
    assert res.exit_code == 2
    assert read_topic(letters, letters.topic, timeout=5) == []


def test_replay_exits_non_zero_when_the_broker_refuses_a_message(kafka_settings: Settings) -> None:
    topic = f"test.small.{uuid.uuid4().hex[:8]}"
    ensure_topic(kafka_settings, topic, partitions=1, configs={"max.message.bytes": "2000"})
    big = b'{"body": "' + base64.b64encode(os.urandom(15_000)) + b'"}'  # does not compress below 2000
    write_dead_letters(kafka_settings, topic, [
        (0, dead_letter("store_rejected", "DataError", "too long", 1, key=b"big", value=big, topic=topic)),
        (0, dead_letter("bad_json", "JSONDecodeError", "bad", 2, key=b"small", value=b"{", topic=topic))])
    res = run(kafka_settings, "replay", "--all", "--timeout", "30", topic=topic)
    assert res.exit_code == 1, res.output
    assert "failed   0:0" in res.output and "MessageSizeTooLarge" in res.output
    assert "failed 0\n" not in res.output
    # (kafka-python gives up on everything in flight once the broker refuses one: the small one may fail too)
    assert b"big" not in [m.key for m in read_topic(kafka_settings, topic, timeout=5)]


def test_a_topic_without_a_dead_letter_topic_is_an_error_that_says_so(kafka_settings: Settings) -> None:
    res = run(kafka_settings, "list", topic="no.such.topic")
    assert res.exit_code == 1
    assert "there is no topic no.such.topic.dlq" in res.output
