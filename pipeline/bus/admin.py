"""Topic and group administration: create topics, read their limits and offsets, remove static members."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pipeline.bus.config import common_kwargs, topic_partitions_of
from pipeline.bus.errors import describe, unreachable
from pipeline.config import Settings
from pipeline.errors import BrokerError, BrokerUnavailable
from pipeline.logs import get_logger


@contextlib.contextmanager
def admin_client(settings: Settings) -> Iterator[Any]:
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(**common_kwargs(settings))
    except KafkaError as exc:
        raise unreachable(settings.bootstrap_servers, exc) from None
    try:
        yield admin
    finally:
        with contextlib.suppress(Exception):
            admin.close()


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def list_topics(settings: Settings) -> set[str]:
    from kafka.errors import KafkaError

    with admin_client(settings) as admin:
        try:
            return set(admin.list_topics())
        except KafkaError as exc:
            raise BrokerUnavailable(f"cannot list topics at {settings.bootstrap_servers}: {describe(exc)}") from None


def topic_partitions(settings: Settings) -> dict[str, int]:
    """Every topic (internal ones left out) with its partition count."""
    from kafka.errors import KafkaError

    with admin_client(settings) as admin:
        try:
            described = admin.describe_topics()
        except KafkaError as exc:
            raise BrokerUnavailable(f"cannot list topics at {settings.bootstrap_servers}: {describe(exc)}") from None
    return {str(t["name"]): len(t.get("partitions") or []) for t in described
            if not t.get("is_internal") and not str(t["name"]).startswith("__")}


def ensure_topic(settings: Settings, topic: str | None = None, *, partitions: int | None = None,
                 configs: dict[str, str] | None = None, timeout: float = 30.0) -> bool:
    """Create the topic when missing (and wait until it has leaders); True if it was created."""
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    name = topic or settings.topic
    with admin_client(settings) as admin:
        try:
            if name in set(admin.list_topics()):
                return False
            admin.create_topics({name: {"num_partitions": partitions or settings.partitions,
                                        "replication_factor": -1, "configs": configs or {}}},
                                timeout_ms=int(timeout * 1000), wait_for_metadata=True)
        except TopicAlreadyExistsError:
            return False
        except KafkaError as exc:
            raise BrokerError(f"could not create topic {name!r}: {describe(exc)}") from None
    return True


def delete_topic(settings: Settings, topic: str) -> None:
    with admin_client(settings) as admin:
        admin.delete_topics([topic], timeout_ms=30_000)


def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    """The topic's effective configuration (``max.message.bytes``...); empty when it cannot be read."""
    from kafka.admin import ConfigResource, ConfigResourceType

    try:
        with admin_client(settings) as admin:
            answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    except Exception:  # an old broker, no permission to describe: the defaults stay
        return {}
    entries: dict[str, Any] = next(iter(next(iter(answer.values())).values()), {}) if answer else {}
    out = {}
    for key, data in dict(entries).items():
        value = data.get("value") if isinstance(data, dict) else data
        if value is not None:
            out[str(key)] = str(value)
    return out


def set_topic_config(settings: Settings, topic: str, configs: dict[str, str]) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    with admin_client(settings) as admin:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])


def topic_max_message_bytes(settings: Settings, topic: str | None = None) -> int | None:
    value = topic_config(settings, topic or settings.topic).get("max.message.bytes")
    return int(value) if value and value.isdigit() else None


def end_offsets(settings: Settings, topic: str, timeout: float = 15.0) -> dict[int, int]:
    """The end offset of each partition of ``topic`` (empty when it has none yet)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(**common_kwargs(settings), enable_auto_commit=False)
    try:
        tps = topic_partitions_of(consumer, topic, timeout)
        ends = consumer.end_offsets(tps, timeout_ms=int(timeout * 1000)) if tps else {}
        return {tp.partition: int(o) for tp, o in ends.items()}
    finally:
        consumer.close()


def topic_is_empty(settings: Settings, topic: str | None = None, timeout: float = 15.0) -> bool:
    """True when no message was ever written to the topic (new, or deleted and created again):
    then what a producer's state dir remembers about it is stale. False when unsure."""
    try:
        ends = end_offsets(settings, topic or settings.topic, timeout)
    except Exception:
        return False
    return bool(ends) and all(v == 0 for v in ends.values())


def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset of each partition of ``topic`` that has one."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**common_kwargs(settings), group_id=group, enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        out = {}
        for p in sorted(parts):
            o = consumer.committed(TopicPartition(topic, p), timeout_ms=10_000)
            if o is not None:
                out[p] = int(o)
        return out
    finally:
        consumer.close()


def group_lag(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """Messages of ``topic`` the group has not committed yet, per partition."""
    ends = end_offsets(settings, topic)
    done = committed_offsets(settings, group, topic)
    return {p: max(0, end - done.get(p, 0)) for p, end in ends.items()}


def remove_static_member(settings: Settings, group: str, instance_id: str) -> bool:
    """Make a static member leave now (as a dynamic member does on close): its partitions move at once."""
    from kafka.admin import MemberToRemove

    try:
        with admin_client(settings) as admin:
            result = admin.remove_group_members(group, [MemberToRemove(group_instance_id=instance_id,
                                                                       reason="clean shutdown")])
    except Exception as exc:  # the session timeout still frees the partitions
        get_logger(group=group).warning("could not leave the group; its partitions move after the session "
                                        "timeout", instance_id=instance_id, error=describe(exc))
        return False
    return all(err.__name__ == "NoError" for err in result.values())
