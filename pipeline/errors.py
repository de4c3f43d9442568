"""One root exception for the whole project.

``retriable`` decides what a worker does with a failure: retry with backoff
(the fault is outside the message: database down, broker unreachable) or
dead-letter / reject (the fault is in the message itself and retrying cannot help).
"""

from __future__ import annotations

from dataclasses import replace

from pipeline import reasons
from pipeline.records import Refusal


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

    It carries the ``Refusal`` (``.refusal``); ``code`` (one of ``pipeline.reasons``, a metric label),
    ``reason`` and ``origin`` are the refusal's.
    """

    def __init__(self, message: str, *, code: str = reasons.INVALID_FIELD, origin: str | None = None) -> None:
        super().__init__(message, origin=origin)
        self.refusal = Refusal(origin or "", code, message)

    @property
    def code(self) -> str:
        return self.refusal.code

    def refused(self, origin: str, raw: str | None = None) -> Refusal:
        """The refusal, named by its own origin or else by ``origin``, with the refused input ``raw``."""
        return replace(self.refusal, origin=self.refusal.origin or origin, raw=raw)


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
