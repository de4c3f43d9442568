"""Every reason code newsstream gives when it refuses something: one constant each, with its meaning.

A code is the ``code`` of a ``pipeline.records.Refusal`` (and of ``InvalidArticle``): the ``reason``
label of ``newsstream_articles_rejected_total`` (producers), of ``newsstream_articles_failed_total``
and ``newsstream_dlq_messages_total`` and the ``dlq.reason`` header (dead letters), the ``code`` of
an HTTP answer of ``serve-ingest``, the ``code`` of a line in a ``--rejects`` file.

``REASONS`` lists them all; README's table "Refusals, by reason" lists the same codes
(``tests/test_reasons.py`` holds the two together). A new code is one line here and one row there.

Knows nothing of anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Where a code applies.
PRODUCER: Final = "producer refusal"  # produce, follow, feeds, serve-ingest: counted, reported, --rejects
DEAD_LETTER: Final = "dead letter"  # the consumer sends the message to <topic>.dlq
HTTP: Final = "HTTP answer"  # serve-ingest answers with an error status and this code
STORE: Final = "store refusal"  # the batch writer did not store the item (pipeline.store.writer)


@dataclass(frozen=True)
class Reason:
    code: str
    meaning: str
    applies: tuple[str, ...]


REASONS: dict[str, Reason] = {}


def _reason(code: str, meaning: str, *applies: str) -> str:
    REASONS[code] = Reason(code, meaning, applies)
    return code


# The article's text
EMPTY_BODY: Final = _reason("empty_body", "the article has no text", PRODUCER, DEAD_LETTER)
MISSING_BODY: Final = _reason("missing_body", "no body key (JSON: body/maintext/text/content)", PRODUCER,
                              DEAD_LETTER)
BODY_TOO_LARGE: Final = _reason("body_too_large", "body over max_body_bytes", PRODUCER, DEAD_LETTER)
BINARY: Final = _reason("binary", "NUL bytes in the input or the body", PRODUCER, DEAD_LETTER)
HTML_BODY: Final = _reason("html_body", "the body is an HTML page, not text", DEAD_LETTER)
LANGUAGE: Final = _reason("language", "another language than --language accepts", PRODUCER)
# Dates
MISSING_DATE: Final = _reason("missing_date", "a plain-text file without its date header", PRODUCER)
BAD_DATE: Final = _reason("bad_date", "a date that cannot be read, names no day or an unknown zone", PRODUCER,
                          DEAD_LETTER)
# Shape of a record or message
BAD_JSON: Final = _reason("bad_json", "broken JSON", PRODUCER, DEAD_LETTER, HTTP)
BAD_SHAPE: Final = _reason("bad_shape", "JSON that is not an object", PRODUCER, DEAD_LETTER)
INVALID_FIELD: Final = _reason("invalid_field", "a field of the wrong type or not valid Unicode", PRODUCER,
                               DEAD_LETTER)
BAD_SCHEMA_VERSION: Final = _reason("bad_schema_version", "a schema_version other than 1", PRODUCER,
                                    DEAD_LETTER)
NO_VALUE: Final = _reason("no_value", "a Kafka message without a value (tombstone)", DEAD_LETTER)
BAD_ENCODING: Final = _reason("bad_encoding", "a message value that is not UTF-8", DEAD_LETTER)
UNDECODABLE: Final = _reason("undecodable", "decoding the message failed in an unforeseen way", DEAD_LETTER)
# The input itself
EMPTY_FILE: Final = _reason("empty_file", "the input is empty", PRODUCER)
NOT_FOUND: Final = _reason("not_found", "no such file or directory", PRODUCER)
UNREADABLE: Final = _reason("unreadable", "the file cannot be read (permissions...)", PRODUCER)
PARSE_ERROR: Final = _reason("parse_error", "a parser failed: the rest of that input is refused", PRODUCER)
FILE_TOO_LARGE: Final = _reason("file_too_large", "produce --follow: a file over follow_max_file_bytes",
                                PRODUCER)
OUTSIDE_FOLDER: Final = _reason("outside_folder", "produce --follow: a link pointing outside the folders",
                                PRODUCER)
# Feeds
BAD_FEED: Final = _reason("bad_feed", "not RSS/Atom XML, or XML with entities", PRODUCER)
FEED_ERROR: Final = _reason("feed_error", "the feed could not be fetched", PRODUCER)
# serve-ingest
UNSUPPORTED_MEDIA_TYPE: Final = _reason("unsupported_media_type", "415: a Content-Type it does not read",
                                        PRODUCER, HTTP)
REQUEST_TOO_LARGE: Final = _reason("request_too_large", "413: body over ingest_max_request_bytes", PRODUCER,
                                   HTTP)
EMPTY_REQUEST: Final = _reason("empty_request", "400: a POST with no body", PRODUCER, HTTP)
UNAUTHORIZED: Final = _reason("unauthorized", "401: no or wrong bearer token", PRODUCER, HTTP)
FORBIDDEN_ORIGIN: Final = _reason("forbidden_origin", "403: an Origin not in --allow-origin", PRODUCER, HTTP)
MISDIRECTED_REQUEST: Final = _reason("misdirected_request", "421: a Host it does not answer for", PRODUCER,
                                     HTTP)
TOO_MANY_CONNECTIONS: Final = _reason("too_many_connections", "503: ingest_max_connections are open", HTTP)
# Consumer stages after decoding
EXTRACTION_ERROR: Final = _reason("extraction_error", "spaCy or a rule failed on the article", DEAD_LETTER)
STORE_REJECTED: Final = _reason("store_rejected", "the store refused the item (bad offsets, a value the "
                                "database refuses...)", STORE, DEAD_LETTER)
