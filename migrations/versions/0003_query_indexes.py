"""Indexes for `newsstream query`: mentions by article, trigram text search on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

* ``ix_mentions_article_id_entity_id`` (both databases): co-occurrence and top entities in a
  date range read (article, entity) pairs from the index alone.
* ``ix_articles_title_trgm`` / ``ix_articles_body_trgm`` (PostgreSQL only): GIN trigram indexes
  that serve ``ILIKE '%text%'``. They need the ``pg_trgm`` extension (in postgresql-contrib,
  a "trusted" extension that a database owner may create since PostgreSQL 13). When it cannot be
  created the indexes are skipped with a warning: text search still works, by scanning.
  Downgrade drops the indexes and leaves the extension (other schemas may use it).

No table is rebuilt, so the analyst views of 0002 stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
TRGM = {"ix_articles_title_trgm": "title", "ix_articles_body_trgm": "body"}


def _trigram_ready() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    if not bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        log.warning("pg_trgm is not installed (postgresql-contrib): text search will scan the articles")
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("cannot create the pg_trgm extension (%s): text search will scan the articles",
                    str(exc.orig).splitlines()[0])
        return False
    return True


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentions_article_id_entity_id"), ["article_id", "entity_id"],
                              unique=False)
    if _trigram_ready():
        for name, column in TRGM.items():
            op.create_index(name, "articles", [column], unique=False, postgresql_using="gin",
                            postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRGM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_article_id_entity_id"))
