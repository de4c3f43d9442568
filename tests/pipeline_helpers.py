"""Helpers for tests that run real producers, consumers and databases (no fakes)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from pipeline.article import Article, encode
from pipeline.bus.clients import send_all
from pipeline.config import Settings, load_settings
from pipeline.store.db import make_engine

ROOT = Path(__file__).resolve().parent.parent

# Every person has a surname of their own and is always named in full, so which entity row a name
# joins never depends on the order articles arrive in (see README, Guarantees: short names).
PEOPLE = ["Maria Novak", "Jonas Berg", "Aisha Okafor", "Pavel Lindqvist", "Lena Moreau", "Tomas Castillo",
          "Ingrid Haddad", "Kofi Petrov", "Elena Schmidt", "Rafael Tanaka", "Yuki Adeyemi", "Omar Kowalski"]
ORGS = ["the European Commission", "the World Bank", "Siemens", "the United Nations", "NATO", "Reuters",
        "the Red Cross", "Volkswagen", "the African Union", "Greenpeace"]
PLACES = ["Berlin", "Lagos", "Warsaw", "Lisbon", "Nairobi", "Oslo", "Madrid", "Cairo", "Seoul", "Lima", "Kyiv",
          "Ottawa"]
ORG_SUBJECT = lambda org: org[0].upper() + org[1:]  # noqa: E731
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
VERBS = ["met", "criticised", "signed an agreement with", "accused", "praised", "sanctioned", "invited",
         "rejected a proposal from", "threatened", "supported"]


def synthetic_articles(n: int, *, seed: int = 7, paragraphs: int = 1) -> list[Article]:
    """``n`` distinct news articles with named people, organisations, places and events."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(PEOPLE, 2)
        place = rng.choice(PLACES)
        paras = []
        for _ in range(paragraphs):
            org, other = rng.choice(ORGS), rng.choice(PLACES)
            paras.append(f"{a}, a spokesperson for {org}, {rng.choice(VERBS)} {b} in {place} on "
                         f"{rng.choice(DAYS)}. The talks in {place} followed a week of protests in {other}, "
                         f"officials said. {b} said the plan would cost {rng.randint(2, 900)} million "
                         f"euros. {ORG_SUBJECT(rng.choice(ORGS))} {rng.choice(VERBS)} {a} in {other}.")
        paras.append(f"Report number {i} was filed by desk {rng.randint(1000, 9999)}.")
        out.append(Article.build(body="\n\n".join(paras), title=f"{a.split()[1]} and {b.split()[1]} in {place}",
                                 published=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                                 source="newsstream-tests", url=f"https://news.example/{seed}/{i}"))
    return out


def produce_articles(bootstrap: str, topic: str, arts: list[Article]) -> None:
    send_raw(bootstrap, topic, [(a.id.encode(), encode(a)) for a in arts])


def send_raw(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]], *,
             partition: int | None = None) -> None:
    """Write raw (key, value) bytes to the topic, as any client could, and wait for every acknowledgement."""
    send_all(load_settings(bootstrap_servers=bootstrap), topic, messages, partition=partition)


def consume_cmd(s: Settings, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "newsstream_cli", "consume", "--bootstrap-servers", s.bootstrap_servers,
            "--topic", s.topic, "--database-url", url, "--group", s.group, "--metrics-port", "-1", *extra]


class Consumer:
    """A real `newsstream consume` process whose log goes to a file the test can read while it runs."""

    def __init__(self, s: Settings, url: str, *extra: str, env: dict[str, str] | None = None) -> None:
        fd, name = tempfile.mkstemp(prefix="consumer-", suffix=".log")
        self.log_path = Path(name)
        self.started = time.monotonic()
        env = {**os.environ, "NEWSSTREAM_LOG_FORMAT": "json", **(env or {})}
        with os.fdopen(fd, "w") as log:
            self.proc = subprocess.Popen(consume_cmd(s, url, *extra), stdout=log, stderr=subprocess.STDOUT,
                                         text=True, cwd=ROOT, env=env)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def poll(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> int:
        self.proc.kill()
        return self.proc.wait(timeout=30)

    def wait(self, timeout: float = 300) -> int:
        return self.proc.wait(timeout=timeout)

    def finish(self, timeout: float = 60) -> str:
        """SIGTERM: the worker finishes its batch, commits and exits 0; returns its log."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        assert code == 0, self.log[-3000:]
        return self.log


def start_consumer(s: Settings, url: str, *extra: str, env: dict[str, str] | None = None) -> Consumer:
    return Consumer(s, url, *extra, env=env)


def count(url: str, table: str = "articles") -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()


def wait_until(cond: Callable[[], bool], timeout: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception:  # the database may be down on purpose
            pass
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def dump(url: str) -> dict[str, list[tuple]]:
    """Every table's content without surrogate ids or timestamps: comparable across databases."""
    queries = {
        "articles": "select id, title, body, published, extractor_version, content_hash from articles",
        "entities": "select name, label from entities",
        "aliases": "select a.alias, a.label, e.name from entity_aliases a join entities e on e.id = a.entity_id",
        "mentions": 'select m.article_id, e.name, e.label, m.field, m.start, m."end", m.text from mentions m '
                    "join entities e on e.id = m.entity_id",
        "events": "select v.article_id, v.seq, v.type, v.trigger_lemma, v.trigger_start, a.name, t.name, l.name, "
                  "v.date, v.negated, v.modality from events v left join entities a on a.id = v.actor_id "
                  "left join entities t on t.id = v.target_id left join entities l on l.id = v.location_id",
    }
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {k: sorted(tuple(str(x) for x in row) for row in conn.execute(sa.text(q)))
                    for k, q in queries.items()}
    finally:
        engine.dispose()
