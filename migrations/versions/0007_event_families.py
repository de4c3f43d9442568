"""Event families, agent sectors, reported speech (issue 13).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

* ``events.family``: the type's family (political, business, justice, personnel, life, sport,
  movement, meeting, transfer, statement, other); rows stored before this revision get
  ``political`` for a PLOVER type and ``other`` for anything else.
* ``events.actor_sector`` / ``target_sector``: the agent sector of an unnamed actor or target
  ("police": police, "the company": business); ``events.source_id``: the entity that reported it;
  ``events.quote_text``: what a ``STATEMENT`` event's speaker said.
* ``event_view`` gains the five columns. Columns are added and dropped with ``ALTER TABLE``; the
  view is dropped first and made again, since SQLite refuses to drop a column a view reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLOVER = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
          "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")
EVENT_VIEW: str = importlib.import_module("migrations.versions.0002_analyst_views").EVENT_VIEW
NEW_VIEW_COLUMNS = """       ev.family,
       ev.actor_sector,
       ev.target_sector,
       ev.source_id,
       ev.quote_text,
       ev.sentence
FROM events ev"""


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS event_view")
    op.add_column('events', sa.Column('family', sa.Text(), server_default='other', nullable=False))
    op.add_column('events', sa.Column('actor_sector', sa.Text(), nullable=True))
    op.add_column('events', sa.Column('target_sector', sa.Text(), nullable=True))
    op.add_column('events', sa.Column('source_id', sa.Integer(), nullable=True))
    op.add_column('events', sa.Column('quote_text', sa.Text(), nullable=True))
    op.create_index(op.f('ix_events_family'), 'events', ['family'], unique=False)
    op.create_index(op.f('ix_events_source_id'), 'events', ['source_id'], unique=False)
    events = sa.table('events', sa.column('type', sa.Text()), sa.column('family', sa.Text()))
    op.execute(events.update().where(events.c.type.in_(PLOVER)).values(family='political'))
    op.execute(EVENT_VIEW.replace("       ev.sentence\nFROM events ev", NEW_VIEW_COLUMNS))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS event_view")
    op.drop_index(op.f('ix_events_source_id'), table_name='events')
    op.drop_index(op.f('ix_events_family'), table_name='events')
    for col in ('quote_text', 'source_id', 'target_sector', 'actor_sector', 'family'):
        op.drop_column('events', col)
    op.execute(EVENT_VIEW)
