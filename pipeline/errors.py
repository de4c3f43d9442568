"""One root exception for the whole project.

``retriable`` decides what a worker does with a failure: retry with backoff
(the fault is outside the message: database down, broker unreachable) or
dead-letter / reject (the fault is in the message itself and retrying cannot help).
"""

from __future__ import annotations


class NewsstreamError(Exception):
    """Root of every error newsstream raises on purpose."""

    retriable: bool = False

    def __init__(self, message: str, *, origin: str | None = None) -> None:
        self.origin = origin
        super().__init__(f"{origin}: {message}" if origin else message)
        self.reason = message


class ConfigError(NewsstreamError):
    """A setting is missing or wrong."""


class InvalidArticle(NewsstreamError):
    """Input that cannot become an article (bad JSON, missing body, bad date...).

    ``code`` is a short machine-readable reason used as a metric label.
    """

    def __init__(self, message: str, *, code: str = "invalid", origin: str | None = None) -> None:
        self.code = code
        super().__init__(message, origin=origin)


class ExtractionError(NewsstreamError):
    """spaCy or a rule failed on one article."""


class ToolMissing(NewsstreamError):
    """A system tool (java, mvn, pg_ctl...) is not installed."""


class BrokerError(NewsstreamError):
    """The local broker could not be started, or Kafka refused an operation."""


class BrokerUnavailable(BrokerError):
    retriable = True


class DatabaseUnavailable(NewsstreamError):
    """The database cannot be reached right now; the batch is retried."""

    retriable = True


class DeliveryFailed(NewsstreamError):
    """A message could not be delivered to Kafka after all retries."""
