"""Analyst views: event_view and entity_daily_mentions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Plain SQL that runs unchanged on SQLite and PostgreSQL. A later migration that
rebuilds a table these views read (SQLite batch mode) must drop and recreate them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_VIEW = """
CREATE VIEW event_view AS
SELECT ev.id AS event_id,
       ev.article_id,
       ev.seq,
       ev.type,
       a.published,
       a.published_date,
       a.url,
       a.title,
       a.source,
       ev.trigger_text,
       ev.trigger_lemma,
       ev.actor_id,
       actor.name AS actor,
       actor.label AS actor_label,
       ev.actor_text,
       ev.target_id,
       target.name AS target,
       target.label AS target_label,
       ev.target_text,
       ev.location_id,
       loc.name AS location,
       ev.location_text,
       ev.date AS event_date,
       ev.date_text,
       ev.negated,
       ev.modality,
       ev.source_text,
       ev.sentence
FROM events ev
JOIN articles a ON a.id = ev.article_id
LEFT JOIN entities actor ON actor.id = ev.actor_id
LEFT JOIN entities target ON target.id = ev.target_id
LEFT JOIN entities loc ON loc.id = ev.location_id
"""

ENTITY_DAILY_MENTIONS = """
CREATE VIEW entity_daily_mentions AS
SELECT e.id AS entity_id,
       e.name,
       e.label,
       a.published_date AS day,
       COUNT(*) AS mention_count
FROM mentions m
JOIN entities e ON e.id = m.entity_id
JOIN articles a ON a.id = m.article_id
GROUP BY e.id, e.name, e.label, a.published_date
"""


def upgrade() -> None:
    op.execute(EVENT_VIEW)
    op.execute(ENTITY_DAILY_MENTIONS)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS entity_daily_mentions")
    op.execute("DROP VIEW IF EXISTS event_view")
