"""`newsstream serve-ingest`: an HTTP endpoint that puts pushed articles onto the topic."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from newsstream_cli.common import (
    emit_summary,
    fail,
    handle_errors,
    kafka_options,
    log_options,
    settings,
    summary_option,
)
from pipeline.bus.clients import ensure_topic
from pipeline.config import Settings, choices_of, default_of
from pipeline.errors import ConfigError
from pipeline.logs import say
from pipeline.metrics import Metrics
from producers.http_ingest import IngestServer, check_bind
from producers.intake import Intake
from producers.producer import ArticleProducer, ProduceStats, topic_is_empty, topic_message_limit
from producers.seen import SeenStore


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@click.command(name="serve-ingest")
@kafka_options
@click.option("--host", help=f"address to bind [env NEWSSTREAM_INGEST_HOST, default {default_of('ingest_host')}]")
@click.option("--port", type=click.IntRange(0, 65535), help="port, 0 = a free one "
              f"[env NEWSSTREAM_INGEST_PORT, default {default_of('ingest_port')}]")
@click.option("--max-request-bytes", type=click.IntRange(min=1), help="largest request body, 413 above it "
              "[env NEWSSTREAM_INGEST_MAX_REQUEST_BYTES]")
@click.option("--max-body-bytes", type=click.IntRange(min=1), help="largest accepted article body "
              "[env NEWSSTREAM_MAX_BODY_BYTES]")
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="accept only articles in this language, e.g. en (repeatable)")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True), help="file holding the bearer "
              "token clients must send (Authorization: Bearer TOKEN); required to bind anywhere but loopback "
              "[env NEWSSTREAM_INGEST_TOKEN]")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="a browser origin allowed to post, e.g. https://desk.example.org (repeatable); a request "
                   "with any other Origin header gets 403")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="a Host name this server answers for besides the one it binds to, e.g. the name a "
                   "reverse proxy passes (repeatable); other Host headers get 421")
@click.option("--timeout", type=click.FloatRange(min=0.1), help="seconds a connection may take to send a "
              f"request, and may stay idle [env NEWSSTREAM_INGEST_TIMEOUT, default {default_of('ingest_timeout'):g}]")
@click.option("--max-connections", type=click.IntRange(min=1), help="connections at once; more get 503 "
              f"[env NEWSSTREAM_INGEST_MAX_CONNECTIONS, default {default_of('ingest_max_connections')}]")
@click.option("--rejects", type=click.File("a"), help="append rejected articles as JSON lines to this file")
@click.option("--state-dir", type=click.Path(file_okay=False), help="where the seen-set lives "
              "[env NEWSSTREAM_STATE_DIR]")
@click.option("--partitions", type=int, help="partitions when the topic is created [env NEWSSTREAM_PARTITIONS]")
@click.option("--compression", type=click.Choice(choices_of("compression")),
              help="message compression [env NEWSSTREAM_COMPRESSION]")
@log_options
@summary_option
@handle_errors
def serve_ingest(bootstrap_servers: str | None, topic: str | None, host: str | None, port: int | None,
                 max_request_bytes: int | None, max_body_bytes: int | None, languages: tuple[str, ...],
                 token_file: str | None, allow_origins: tuple[str, ...], allow_hosts: tuple[str, ...],
                 timeout: float | None, max_connections: int | None, rejects: Any, state_dir: str | None,
                 partitions: int | None, compression: str | None, summary_format: str) -> None:
    """Accept articles over HTTP: POST /articles with one JSON article, a JSON array or JSON lines
    (Content-Type application/json or application/x-ndjson; text/plain for one seed-format article).

    Answers 202 {"ids": [...]} once Kafka acknowledged them (duplicates are listed, not resent);
    400 with each rejection's reason (an empty request too), 401 without the bearer token, 403 for an
    Origin not allowed, 405 for another method, 413 over the size limit, 415 for other content types,
    421 for a Host it does not answer for, 503 when Kafka did not acknowledge or too many connections
    are open. GET /healthz (503 once the delivery thread stopped) and GET /metrics on the same port.
    Binds to 127.0.0.1 unless told otherwise; anywhere else only with a token (put TLS in front: a
    reverse proxy, see the README's Security section). Stops on SIGTERM/SIGINT, flushing what was queued,
    and prints the closing summary (--format).
    """
    s = settings(bootstrap_servers=bootstrap_servers, topic=topic, ingest_host=host, ingest_port=port,
                 ingest_max_request_bytes=max_request_bytes, max_body_bytes=max_body_bytes, state_dir=state_dir,
                 partitions=partitions, compression=compression, ingest_timeout=timeout,
                 ingest_max_connections=max_connections)
    token = _token(token_file, s.ingest_token.get_secret_value() if s.ingest_token else None)
    check_bind(s.ingest_host, token)
    metrics = Metrics()
    producer = _producer(s, metrics)
    server = _server(s, producer, metrics, token, rejects=rejects, languages=languages,
                     allow_origins=allow_origins, allow_hosts=allow_hosts)
    signal.signal(signal.SIGTERM, _interrupt)
    stats = _serve(s, server, producer, token)
    emit_summary(stats.as_dict(), summary_format, stats.summary())
    if stats.failed:
        sys.exit(1)


def _producer(s: Settings, metrics: Metrics) -> ArticleProducer:
    """The producer onto the topic (created when missing), with the state dir's seen-set (forgotten when the
    topic is new or empty)."""
    created = ensure_topic(s)
    seen = SeenStore.in_dir(s.state_dir, topic=s.topic, max_ids=s.seen_max)
    if (created or topic_is_empty(s)) and seen.forget_topic():
        say(f"topic {s.topic} is empty: forgetting what {s.state_dir} says was sent to it", event="seen_forgotten",
            topic=s.topic, state_dir=str(s.state_dir))
    return ArticleProducer(s, metrics=metrics, seen=seen, **topic_message_limit(s))


def _server(s: Settings, producer: ArticleProducer, metrics: Metrics, token: bytes | None, *, rejects: Any,
            languages: tuple[str, ...], allow_origins: tuple[str, ...], allow_hosts: tuple[str, ...]) -> IngestServer:
    """The HTTP server, bound but not serving yet; a port it cannot listen on closes the producer and fails."""
    intake = Intake(producer, echo=say, rejects=rejects)
    try:
        return IngestServer((s.ingest_host, s.ingest_port), intake, metrics,
                            max_request_bytes=s.ingest_max_request_bytes, max_body_bytes=s.max_body_bytes,
                            languages={lang.lower() for lang in languages}, timeout=s.ingest_timeout,
                            max_connections=s.ingest_max_connections, token=token,
                            allow_origins=allow_origins, allow_hosts=allow_hosts)
    except OSError as exc:
        producer.close()
        fail(f"newsstream: error: cannot listen on {s.ingest_host}:{s.ingest_port}: {exc.strerror}",
             host=str(s.ingest_host), port=s.ingest_port, error=exc.strerror)


def _serve(s: Settings, server: IngestServer, producer: ArticleProducer, token: bytes | None) -> ProduceStats:
    """Serve until SIGTERM/SIGINT, then stop the server and flush the producer: its closing stats."""
    server.start()
    bound_host, bound_port = str(s.ingest_host), server.server_address[1]
    say(f"serving on http://{bound_host}:{bound_port} (POST /articles, GET /healthz, GET /metrics), "
        f"topic {s.topic}{', bearer token required' if token else ''}", event="ingest_serving",
        url=f"http://{bound_host}:{bound_port}", topic=s.topic, token_required=bool(token))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("stopping: flushing what was queued", event="stopping_flush")
    finally:
        server.stop()
        stats = producer.close()
    return stats


def _token(token_file: str | None, from_env: str | None) -> bytes | None:
    """The bearer token: the file's content (stripped) wins over NEWSSTREAM_INGEST_TOKEN. Never printed."""
    if token_file:
        try:
            text = Path(token_file).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the token file {token_file}: {exc}") from None
        if not text:
            raise ConfigError(f"the token file {token_file} is empty")
        return text.encode("utf-8")
    if from_env is not None and not from_env.strip():
        raise ConfigError("NEWSSTREAM_INGEST_TOKEN is set but empty")
    return from_env.strip().encode("utf-8") if from_env else None
