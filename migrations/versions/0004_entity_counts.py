"""Counts for `newsstream query`: article_entities and entity_stats, filled from the mentions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

* ``article_entities``: one row per (article, entity) with the entity's number of mentions in
  the article and the article's publication date. Top entities in a date range, timelines and
  co-occurrence read it instead of grouping every mention. On PostgreSQL its indexes
  ``INCLUDE`` the other columns the queries need: index-only scans.
* ``entity_stats``: all-time mentions and articles per entity ("most mentioned ever").

Both are filled from ``mentions`` here (the statements of ``pipeline.store.counts``, which the
writer and ``newsstream db rebuild-counts`` use too); from then on the writer keeps them exact.
The indexes are created after the backfill (faster than updating them row by row).

The view ``entity_daily_mentions`` (0002) is redefined over ``article_entities``: the same
columns and rows, without reading every mention. Downgrade restores the 0002 definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.store.counts import fill_article_entities, fill_entity_stats

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAILY_MENTIONS_0004 = """
CREATE VIEW entity_daily_mentions AS
SELECT e.id AS entity_id,
       e.name,
       e.label,
       ae.published_date AS day,
       SUM(ae.mentions) AS mention_count
FROM article_entities ae
JOIN entities e ON e.id = ae.entity_id
GROUP BY e.id, e.name, e.label, ae.published_date
"""

DAILY_MENTIONS_0002 = """
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
    op.create_table('article_entities',
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('published_date', sa.Date(), nullable=True),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_entities_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_article_entities_entity_id_entities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'entity_id', name=op.f('pk_article_entities'), postgresql_include=['mentions'])
    )
    op.create_table('entity_stats',
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_entity_stats_entity_id_entities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entity_id', name=op.f('pk_entity_stats'))
    )
    op.execute(fill_article_entities())
    op.execute(fill_entity_stats())
    with op.batch_alter_table('article_entities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_entities_entity_id_published_date'), ['entity_id', 'published_date'], unique=False, postgresql_include=['article_id', 'mentions'])
        batch_op.create_index(batch_op.f('ix_article_entities_published_date_entity_id'), ['published_date', 'entity_id'], unique=False, postgresql_include=['mentions'])
    with op.batch_alter_table('entity_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entity_stats_mentions'), ['mentions'], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # plans for the new tables before autovacuum gets to them
        op.execute("ANALYZE article_entities, entity_stats")

    op.execute("DROP VIEW IF EXISTS entity_daily_mentions")
    op.execute(DAILY_MENTIONS_0004)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS entity_daily_mentions")
    op.execute(DAILY_MENTIONS_0002)

    with op.batch_alter_table('entity_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_stats_mentions'))

    op.drop_table('entity_stats')
    with op.batch_alter_table('article_entities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_entities_published_date_entity_id'))
        batch_op.drop_index(batch_op.f('ix_article_entities_entity_id_published_date'))

    op.drop_table('article_entities')
