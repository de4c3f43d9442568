"""Every rejection reason: reported as ORIGIN: rejected (REASON), counted per reason in the summary and
the metrics, written to --rejects; the good input around it still arrives (real broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pipeline.config import Settings
from pipeline.metrics import Metrics
from pipeline.parsing import read_articles
from producers.intake import Intake
from producers.producer import ArticleProducer
from tests.test_produce import articles_on, produce

pytestmark = pytest.mark.kafka

GERMAN = ("Die Regierung hat am Montag in Berlin einen neuen Plan für die Energie vorgestellt. Der Minister "
          "sagte, dass die Preise nicht weiter steigen werden und dass die Bürger mit einer Entlastung "
          "rechnen können, die noch in diesem Jahr kommen soll.")
ENGLISH = ("The government presented a new energy plan in Berlin on Monday. The minister said that prices "
           "would not rise further and that the people of the country could expect relief this year.")


LATIN1_BODY = ("Prices for apples fall in the market of Zürich, the café owner says; he blames the weather "
               "this year.")  # English (so --language en keeps it), with letters CP-1252 and UTF-8 encode apart

def write_inputs(d: Path) -> dict[str, tuple[str, str]]:
    """Bad inputs, each with the origin and reason code it must be rejected with; plus good ones."""
    d.mkdir()
    line = json.dumps
    (d / "mixed.jsonl").write_text("\n".join([
        line({"title": "ok json", "body": ENGLISH, "url": "https://example.org/ok"}),  # 1 good
        line({"title": "blank", "body": "   "}),                                           # 2 empty_body
        line({"title": "big", "body": "x" * 300}),                                         # 3 body_too_large
        line({"title": "date", "body": "Some text.", "published": "32/13/2024 25:00"}),    # 4 bad_date
        "{not json",                                                                       # 5 bad_json
        line({"title": "no body"}),                                                        # 6 missing_body
        line(["an", "array"]),                                                             # 7 bad_shape
        line({"title": {"nested": 1}, "body": "Text."}),                                   # 8 invalid_field
        line({"schema_version": 7, "body": "Text."}),                                      # 9 bad_schema_version
        line({"title": "undated json", "body": "An undated article is fine."}),            # 10 good, no date
        line({"title": "deutsch", "body": GERMAN}),                                        # 11 language
    ]) + "\n")
    (d / "no-header.txt").write_text("Just a paragraph without the date header.\n\nAnother one.\n")
    (d / "bad-date.txt").write_text("date 2024-02-30 politics\n\nFrom: A\n\nText.\n")
    (d / "header-only.txt").write_text("date 2024-02-03 politics\n\nFrom: Ann Lee\n")
    (d / "binary.json").write_bytes(b'{"body": "a"}\n\x00\x01\x02garbage')
    (d / "empty.jsonl").write_text("  \n\n")
    (d / "latin1.txt").write_bytes(f"date 2024-03-04 Business\n\n{LATIN1_BODY}\n".encode("cp1252"))
    return {
        "mixed.jsonl:2": ("empty_body", "empty body"), "mixed.jsonl:3": ("body_too_large", "over the limit"),
        "mixed.jsonl:4": ("bad_date", "unparseable date"), "mixed.jsonl:5": ("bad_json", "invalid JSON"),
        "mixed.jsonl:6": ("missing_body", "missing body"), "mixed.jsonl:7": ("bad_shape", "JSON object"),
        "mixed.jsonl:8": ("invalid_field", "should be text"),
        "mixed.jsonl:9": ("bad_schema_version", "schema_version 7"),
        "mixed.jsonl:11": ("language", "'de'"),
        "no-header.txt:1": ("missing_date", "header"), "bad-date.txt:1": ("bad_date", "2024-02-30"),
        "header-only.txt:3": ("empty_body", "no text"), "binary.json:2": ("binary", "NUL"),
        "empty.jsonl:1": ("empty_file", "empty"), "missing.json": ("not_found", "no such file"),
    }


def test_each_reason_is_reported_with_its_origin_counted_and_written_to_the_rejects_file(
        kafka_settings: Settings, tmp_path: Path) -> None:
    expected = write_inputs(tmp_path / "in")
    rejects = tmp_path / "rejects.jsonl"
    res = produce(kafka_settings, str(tmp_path / "in"), str(tmp_path / "in" / "missing.json"),
                  "--max-body-bytes", "250", "--language", "en", "--rejects", str(rejects),
                  state_dir=tmp_path / "state")
    assert res.returncode == 0, res.stderr
    for where, (code, why) in expected.items():
        line = next((x for x in res.stderr.splitlines() if f"{tmp_path / 'in' / where}: rejected ({code})" in x),
                    None)
        assert line is not None and why in line, (where, code, res.stderr)
    counts: dict[str, int] = {}
    for code, _ in expected.values():
        counts[code] = counts.get(code, 0) + 1
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    assert res.stdout.strip() == (f"sent 3, duplicates 0, rejected {len(expected)} ({reasons}), "
                                  "delivery failures 0")
    written = [json.loads(x) for x in rejects.read_text("utf-8").splitlines()]
    assert sorted((r["origin"], r["code"]) for r in written) == sorted(
        (str(tmp_path / "in" / where), code) for where, (code, _) in expected.items())
    assert "latin1.txt: not UTF-8, decoded as cp1252" in res.stderr
    got = {a.section if a.section == "Business" else a.title: a for a in articles_on(kafka_settings, 3)}
    assert set(got) == {"ok json", "undated json", "Business"}
    assert got["undated json"].published is None  # a JSON record without a date is accepted
    assert got["Business"].body == LATIN1_BODY  # decoded, not mangled


def test_without_a_language_filter_foreign_text_is_sent_and_flagged(kafka_settings: Settings,
                                                                    tmp_path: Path) -> None:
    lines = json.dumps({"title": "de", "body": GERMAN}) + "\n" + json.dumps({"title": "en", "body": ENGLISH})
    res = produce(kafka_settings, "-", stdin=lines + "\n", state_dir=tmp_path)
    assert res.stdout.startswith("sent 2, duplicates 0, rejected 0"), res.stderr
    assert {a.title: a.language for a in articles_on(kafka_settings, 2)} == {"de": "de", "en": "en"}


def test_rejections_are_counted_per_reason_in_the_metrics(kafka_settings: Settings, tmp_path: Path) -> None:
    write_inputs(tmp_path / "in")
    metrics = Metrics(registry=CollectorRegistry())
    producer = ArticleProducer(kafka_settings, metrics=metrics)
    lines: list[str] = []
    intake = Intake(producer, echo=lambda line, **_fields: lines.append(line))
    for item in read_articles([str(tmp_path / "in")], max_body_bytes=250, languages={"en"}):
        intake.handle(item, source="file")
    stats = producer.close()
    value = metrics.registry.get_sample_value
    assert stats.sent == 3 and value("newsstream_articles_produced_total", {"source": "file"}) == 3
    for code, n in stats.rejected.items():
        assert value("newsstream_articles_rejected_total", {"reason": code}) == n
    assert stats.rejected["empty_body"] == 2 and stats.rejected["bad_date"] == 2
    assert len(lines) == sum(stats.rejected.values()) == 14
