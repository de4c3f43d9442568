"""Stories: the same event across sources (issue 15).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

* ``stories``: first and last seen, article and source counts, headline article, main event,
  top entities, country; ``story_merges``: a merged story's old id -> the survivor;
  ``story_events``: one row per event of a story with its mentions, articles and sources.
* ``articles.story_id`` and ``articles.main_event_seq``; ``events.story_event_id``.

Articles stored before this migration have no story until ``newsstream reprocess --stories``.
Columns are added and dropped with ``ALTER TABLE`` (no table is rebuilt, the views stay).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_published', sa.Text(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=True),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.Column('headline_article_id', sa.String(length=200), nullable=False),
    sa.Column('main_event_id', sa.Integer(), nullable=True),
    sa.Column('top_entities', sa.JSON(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories')),
    sqlite_autoincrement=True
    )
    for col in ('first_seen', 'last_seen', 'article_count', 'country', 'created_at'):
        op.create_index(op.f(f'ix_stories_{col}'), 'stories', [col], unique=False)
    op.create_table('story_merges',
    sa.Column('old_id', sa.Integer(), nullable=False),
    sa.Column('new_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.String(length=200), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.PrimaryKeyConstraint('old_id', name=op.f('pk_story_merges'))
    )
    op.create_index(op.f('ix_story_merges_new_id'), 'story_merges', ['new_id'], unique=False)
    op.create_table('story_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('first_date', sa.Date(), nullable=True),
    sa.Column('last_date', sa.Date(), nullable=True),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.Column('sources', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_events_story_id_stories'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_events'))
    )
    op.create_index(op.f('ix_story_events_story_id'), 'story_events', ['story_id'], unique=False)
    op.add_column('articles', sa.Column('story_id', sa.Integer(), nullable=True))
    op.add_column('articles', sa.Column('main_event_seq', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_articles_story_id'), 'articles', ['story_id'], unique=False)
    op.add_column('events', sa.Column('story_event_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_events_story_event_id'), 'events', ['story_event_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_story_event_id'), table_name='events')
    op.drop_column('events', 'story_event_id')
    op.drop_index(op.f('ix_articles_story_id'), table_name='articles')
    op.drop_column('articles', 'main_event_seq')
    op.drop_column('articles', 'story_id')
    op.drop_index(op.f('ix_story_events_story_id'), table_name='story_events')
    op.drop_table('story_events')
    op.drop_index(op.f('ix_story_merges_new_id'), table_name='story_merges')
    op.drop_table('story_merges')
    for col in ('first_seen', 'last_seen', 'article_count', 'country', 'created_at'):
        op.drop_index(op.f(f'ix_stories_{col}'), table_name='stories')
    op.drop_table('stories')
