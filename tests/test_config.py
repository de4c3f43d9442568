"""Settings: NEWSSTREAM_* environment variables, flags over them, secrets never shown."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from newsstream_cli.main import cli
from pipeline.config import load_settings
from pipeline.errors import ConfigError


def test_environment_sets_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_TOPIC", "from-env")
    monkeypatch.setenv("NEWSSTREAM_BATCH_SIZE", "7")
    s = load_settings()
    assert (s.topic, s.batch_size) == ("from-env", 7)
    assert load_settings(topic="from-flag").topic == "from-flag"
    assert load_settings(topic=None).topic == "from-env"


def test_unknown_setting_is_rejected_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_TOPICC", "typo")
    with pytest.raises(ConfigError, match="NEWSSTREAM_TOPICC"):
        load_settings()


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match="NEWSSTREAM_BATCH_SIZE: Input should be a valid integer"):
        load_settings()


def test_passwords_never_appear_in_public_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_DATABASE_URL", "postgresql+psycopg://app:hunter2@db/news")
    monkeypatch.setenv("NEWSSTREAM_SASL_PASSWORD", "s3cret")
    s = load_settings()
    shown = str(s.public()) + repr(s)
    assert "hunter2" not in shown and "s3cret" not in shown
    assert s.kafka_security()["sasl_plain_password"] == "s3cret"


def test_database_password_setting_is_added_only_when_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_DATABASE_URL", "postgresql+psycopg://app@db:5432/news")
    monkeypatch.setenv("NEWSSTREAM_DATABASE_PASSWORD", "pa:ss@word")
    s = load_settings()
    assert "pa:ss@word" not in str(s.public()) + repr(s)
    from sqlalchemy.engine import make_url

    assert make_url(s.database_url_with_password()).password == "pa:ss@word"


def test_cli_reports_a_config_error_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_NOPE", "1")
    res = CliRunner().invoke(cli, ["broker", "status"])
    assert res.exit_code == 2  # a configuration error is a usage error, not a failure (1)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "NEWSSTREAM_NOPE" in lines[0]


def test_compression_is_one_of_the_codecs_kafka_python_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().compression == "lz4"
    for codec in ("gzip", "lz4", "zstd", "none"):
        assert load_settings(compression=codec).compression == codec
    monkeypatch.setenv("NEWSSTREAM_COMPRESSION", "snappy")  # gone with confluent-kafka
    with pytest.raises(ConfigError, match=r"NEWSSTREAM_COMPRESSION: Input should be .gzip., .lz4."):
        load_settings()


def test_a_misspelt_setting_suggests_the_close_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_DATABSE_URL", "sqlite:///x.db")
    res = CliRunner().invoke(cli, ["config"])
    assert res.exit_code == 2
    assert "unknown setting NEWSSTREAM_DATABSE_URL (did you mean NEWSSTREAM_DATABASE_URL?)" in res.output


def test_config_prints_the_settings_in_effect_with_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setenv("NEWSSTREAM_TOPIC", "wires")
    monkeypatch.setenv("NEWSSTREAM_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("NEWSSTREAM_DATABASE_URL", "postgresql+psycopg://app:hunter2@db/news")
    res = CliRunner().invoke(cli, ["config", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["setting"]: r for r in json.loads(res.output)}
    assert rows["topic"]["value"] == "wires" and rows["topic"]["source"] == "environment"
    assert rows["group"]["value"] == "newsstream" and rows["group"]["source"] == "default"
    assert rows["topic"]["variable"] == "NEWSSTREAM_TOPIC" and rows["topic"]["meaning"]
    assert "s3cret" not in res.output and "hunter2" not in res.output
    csv = CliRunner().invoke(cli, ["config", "--format", "csv"]).output.splitlines()
    assert csv[0] == "section,setting,value,source,variable,meaning" and len(csv) == len(rows) + 1
    assert rows["topic"]["section"] == "kafka" and rows["database_url"]["section"] == "database"


def test_every_setting_is_defined_once_in_one_section() -> None:
    from pipeline.config import SECTIONS, Settings, section_of

    seen: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        for name in cls.model_fields:
            assert name not in seen, f"{name} in {seen.get(name)} and {section}"
            seen[name] = section
    assert set(seen) == set(Settings.model_fields)
    assert all(section_of(name) == seen[name] for name in Settings.model_fields)
    assert set(SECTIONS) == {"kafka", "database", "extraction", "ingest", "stories", "observability"}


def test_variables_keep_their_flat_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import SecretStr

    monkeypatch.setenv("NEWSSTREAM_BOOTSTRAP_SERVERS", "kafka:29092")
    monkeypatch.setenv("NEWSSTREAM_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("NEWSSTREAM_SEEN_MAX", "5")
    monkeypatch.setenv("NEWSSTREAM_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("NEWSSTREAM_INGEST_TOKEN", "t0ken")
    s = load_settings()
    assert (s.bootstrap_servers, s.database_url, s.seen_max, s.log_level) == ("kafka:29092", "sqlite:///x.db", 5,
                                                                               "DEBUG")
    assert isinstance(s.ingest_token, SecretStr) and s.public()["ingest_token"] == "**********"


def test_defaults_shared_with_other_modules_are_written_once() -> None:
    from pipeline.article import DEFAULT_MAX_BODY_BYTES
    from pipeline.config import DEFAULT_SEEN_MAX, DEFAULT_SPACY_MODEL, default_of
    from producers.seen import SeenStore

    assert default_of("max_body_bytes") == DEFAULT_MAX_BODY_BYTES
    assert default_of("seen_max") == DEFAULT_SEEN_MAX
    assert default_of("spacy_model") == DEFAULT_SPACY_MODEL
    assert SeenStore.__init__.__kwdefaults__["max_ids"] == DEFAULT_SEEN_MAX


def test_each_role_has_its_own_default_metrics_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """A producer, the `--workers` supervisor and every worker on one host need no flags (issue 18.4a)."""
    from consumers.runner import metrics_port_for
    from consumers.supervisor import supervisor_metrics_port

    for name in ("NEWSSTREAM_METRICS_PORT", "NEWSSTREAM_PRODUCER_METRICS_PORT", "NEWSSTREAM_INGEST_PORT"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    for workers in (1, 2, 4, 64):  # 64: the most `consume --workers` takes
        ports = {"producer": s.producer_metrics_port, "serve-ingest": s.ingest_port,
                 "supervisor": supervisor_metrics_port(s.metrics_port),
                 **{f"worker {i}": metrics_port_for(s.metrics_port, i) for i in range(workers)}}
        assert all(p > 0 for p in ports.values()), ports  # each serves by default
        assert len(set(ports.values())) == len(ports), ports
    assert (s.producer_metrics_port, supervisor_metrics_port(s.metrics_port), s.metrics_port) == (9106, 9107, 9108)
