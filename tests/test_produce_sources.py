"""Every `produce` source against the real broker: seed plain text, JSON (ours, news-please, a user
mapping), directories, stdin; compression, topic creation, progress bar, Kafka security settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.bus.admin import end_offsets
from pipeline.bus.config import producer_kwargs
from pipeline.config import Settings, load_settings
from tests.conftest import SAMPLES, shared_path
from tests.test_produce import articles_on, produce

pytestmark = pytest.mark.kafka


def summary(res) -> str:  # type: ignore[no-untyped-def]
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


@pytest.mark.shared
def test_the_seed_article_arrives_with_the_fields_of_its_answer_key(kafka_settings: Settings,
                                                                    tmp_path: Path) -> None:
    seed = shared_path("seed", "lukashenko-wagner-2023-07-03.txt")
    gold = json.loads(seed.with_name("lukashenko-wagner-2023-07-03.gold.json").read_text("utf-8"))["article"]
    assert summary(produce(kafka_settings, str(seed), state_dir=tmp_path)).startswith("sent 1, duplicates 0")
    (article,) = articles_on(kafka_settings, 1)
    for field, value in gold.items():
        assert getattr(article, field) == value, field
    assert article.language == "en"
    assert "© dpa" not in article.body and "(erpe)" not in article.body


def test_json_in_our_schema_news_please_shape_and_a_declared_mapping(kafka_settings: Settings,
                                                                     tmp_path: Path) -> None:
    ours = {"schema_version": 1, "id": "ours-1", "title": "Grain deal", "body": "Ukraine and Turkey signed.",
            "published": "2024-03-01", "authors": ["A. Writer"], "section": "world"}
    news_please = {"url": "https://www.example.com/np?utm_source=rss", "title": "Flood in Porto",
                   "maintext": "The Douro burst its banks.", "date_publish": "2024-02-02 10:00:00",
                   "source_domain": "example.com", "authors": ["B. Reporter"], "language": "en"}
    custom = [{"headline": "Dam opens", "content": "A dam opened in Laos.", "pubDate": "2024-01-05"},
              {"headline": "Port strike", "content": "Dockers struck in Antwerp.", "pubDate": "not a date"}]
    (tmp_path / "ours.jsonl").write_text(json.dumps(ours) + "\n")
    (tmp_path / "np.json").write_text(json.dumps(news_please, indent=2))
    export = tmp_path / "export.json"
    export.write_text(json.dumps(custom))
    res = produce(kafka_settings, str(tmp_path / "ours.jsonl"), str(tmp_path / "np.json"), str(export),
                  "--field", "body=content", "--field", "published=pubDate", state_dir=tmp_path / "state")
    assert summary(res) == "sent 3, duplicates 0, rejected 1 (bad_date: 1), delivery failures 0"
    assert f"{export}:1: rejected (bad_date)" in res.stderr  # the array's line: one line holds it all
    got = {a.title: a for a in articles_on(kafka_settings, 3)}
    assert got["Grain deal"].id == "ours-1" and got["Grain deal"].authors == ["A. Writer"]
    flood = got["Flood in Porto"]
    assert (flood.body, flood.published, flood.source) == ("The Douro burst its banks.", "2024-02-02T10:00:00",
                                                           "example.com")
    assert got["Dam opens"].body == "A dam opened in Laos." and got["Dam opens"].published == "2024-01-05"


def test_a_directory_once_reads_txt_json_and_jsonl_and_skips_hidden_and_other_files(kafka_settings: Settings,
                                                                                    tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("date 2024-01-02 News > World\n\nFrom: Ann Lee\n\nThe lead.\n\nRIGA – Body.\n")
    (src / "sub" / "b.jsonl").write_text(json.dumps({"title": "b", "body": "Body b."}) + "\n"
                                         + json.dumps({"title": "c", "body": "Body c."}) + "\n")
    (src / ".hidden.json").write_text(json.dumps({"body": "hidden"}))
    (src / "notes.md").write_text("not an article")
    assert summary(produce(kafka_settings, str(src), state_dir=tmp_path / "state")).startswith("sent 3,")
    got = {a.title: a for a in articles_on(kafka_settings, 3)}
    assert set(got) == {"The lead", "b", "c"}  # the seed format's title: its lead's first sentence
    assert (got["The lead"].section, got["The lead"].dateline, got["The lead"].authors) == ("World", "RIGA",
                                                                                           ["Ann Lee"])


def test_stdin_with_a_dash(kafka_settings: Settings, tmp_path: Path) -> None:
    lines = "".join(json.dumps({"title": f"t{i}", "body": f"Body {i}."}) + "\n" for i in range(3))
    assert summary(produce(kafka_settings, "-", stdin=lines, state_dir=tmp_path)).startswith("sent 3,")
    assert sorted(a.title for a in articles_on(kafka_settings, 3)) == ["t0", "t1", "t2"]


@pytest.mark.parametrize("codec", ["gzip", "zstd", "none"])
def test_other_compression_codecs_arrive_readable(kafka_settings: Settings, tmp_path: Path, codec: str) -> None:
    res = produce(kafka_settings, str(SAMPLES / "articles.jsonl"), "--compression", codec, state_dir=tmp_path)
    n = sum(1 for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip())
    assert summary(res).startswith(f"sent {n}, duplicates 0")
    assert all(a.body for a in articles_on(kafka_settings, n))


def test_a_missing_topic_is_created_with_the_partitions_asked_for(kafka_settings: Settings,
                                                                  tmp_path: Path) -> None:
    s = load_settings(bootstrap_servers=kafka_settings.bootstrap_servers, topic=kafka_settings.topic + ".new")
    res = produce(s, str(SAMPLES / "articles.jsonl"), "--partitions", "5", state_dir=tmp_path)
    assert summary(res).startswith("sent ")
    assert sorted(end_offsets(s, s.topic)) == [0, 1, 2, 3, 4]


def test_progress_bar_shows_count_rate_and_eta_when_asked(kafka_settings: Settings, tmp_path: Path) -> None:
    res = produce(kafka_settings, str(SAMPLES), "--progress", state_dir=tmp_path)
    assert summary(res).startswith("sent ")
    assert "articles/s" in res.stderr and "ETA" in res.stderr
    quiet = produce(kafka_settings, str(SAMPLES), state_dir=tmp_path / "other")  # not a terminal: no bar
    assert "articles/s" not in quiet.stderr


def test_kafka_security_settings_reach_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("NEWSSTREAM_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("NEWSSTREAM_SASL_USERNAME", "ingest")
    monkeypatch.setenv("NEWSSTREAM_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("NEWSSTREAM_SSL_CA_LOCATION", "/etc/ssl/ca.pem")
    conf = producer_kwargs(load_settings())
    assert (conf["security_protocol"], conf["sasl_mechanism"], conf["sasl_plain_username"],
            conf["sasl_plain_password"], conf["ssl_cafile"]) == ("SASL_SSL", "SCRAM-SHA-512", "ingest", "s3cret",
                                                                 "/etc/ssl/ca.pem")
    assert (conf["acks"], conf["enable_idempotence"], conf["compression_type"]) == ("all", True, "lz4")


@pytest.mark.parametrize(("args", "why"), [
    ((), "give PATH..., - for stdin, or --feed URL"),
    (("--compression", "snappy", "samples/"), "'snappy' is not one of 'gzip', 'lz4', 'zstd', 'none'"),
    (("samples/", "--interval", "5"), "--interval is how often --feed URLs are polled"),
    (("--field", "body", "samples/"), "expected OURS=THEIRS"),
    (("--field", "bdoy=content", "samples/"), "unknown article fields ['bdoy']"),
])
def test_usage_mistakes_are_explained_before_anything_is_sent(args: tuple[str, ...], why: str) -> None:
    res = CliRunner().invoke(cli, ["produce", "--bootstrap-servers", "127.0.0.1:1", *args])
    assert res.exit_code != 0 and why in res.output
