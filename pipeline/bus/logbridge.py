"""kafka-python's log records, passed through our structured logs.

The client logs through the standard ``logging`` module under ``kafka.*``. Its records become
``kafka client`` events at our DEBUG level (their own level in ``client_level``): at the default
level the terminal shows our own one-line account of a problem (``cannot reach Kafka at ...``,
``poll failed``, ``offset commit failed``), not the client's reconnection chatter; with
``NEWSSTREAM_LOG_LEVEL=DEBUG`` every record shows, the same message at most once per
``REPEAT_SECONDS``. Only the client's CRITICAL records keep their level.
"""

from __future__ import annotations

import logging
import time

REPEAT_SECONDS = 30.0


class _ToStructlog(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[str, str], float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        from pipeline.logs import get_logger

        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self._last.get(key, -REPEAT_SECONDS) < REPEAT_SECONDS:
            return
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = now
        try:
            message = record.getMessage()
        except Exception:  # a malformed client record must not break logging
            message = str(record.msg)
        log = get_logger(logger=record.name, client_level=record.levelname.lower())
        method = log.error if record.levelno >= logging.CRITICAL else log.debug
        method("kafka client", message=message[:500])


_HANDLER = _ToStructlog()


def bridge_client_logs(level: str = "INFO") -> None:
    """Route the ``kafka`` logger into structlog (its records are read only at our DEBUG level)."""
    logger = logging.getLogger("kafka")
    logger.setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.CRITICAL)
    logger.propagate = False
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)
