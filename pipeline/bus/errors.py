"""kafka-python's errors in our terms: which are worth retrying, and one line a user can act on."""

from __future__ import annotations

from pipeline.errors import BrokerError, BrokerUnavailable

HINT = "is a broker running there? `newsstream broker start` starts a local one"


def describe(exc: BaseException) -> str:
    """``ErrorClass: message`` (kafka-python's errors often have an empty message)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if text.startswith(name):  # kafka-python 3 errors already say their name
        return text
    return f"{name}: {text}" if text else name


def unreachable(bootstrap: str, exc: BaseException) -> BrokerError:
    """The error to raise when a client cannot be created: unreachable brokers are retriable."""
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError  # 3.x: no bootstrap is a KafkaTimeoutError

    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return BrokerUnavailable(f"cannot reach Kafka at {bootstrap} ({describe(exc)}); {HINT}")
    return BrokerError(f"Kafka client for {bootstrap} failed: {describe(exc)}")
