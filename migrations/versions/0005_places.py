"""Places: the gazetteer places articles name, and the country of each article and event.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

* ``places``: one row per place some article named (GeoNames id, kind, ISO country, admin1,
  latitude, longitude), keyed by ``gn:<geonameid>`` (else ``iso:<ISO 3166-2>`` or ``name:...``).
* ``article_places``: per (article, entity) whose geo resolved, the place and its mentions.
* ``articles.country`` and ``events.country`` (ISO 3166 alpha-2, indexed).

Articles stored before this migration have no places and a NULL country until
``newsstream reprocess`` extracts them again. No table is rebuilt (columns are added with
``ALTER TABLE``), so the analyst views of 0002/0004 stay as they are; downgrade drops the columns
with ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35 or later), not by rebuilding the tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('geonameid', sa.Integer(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('admin1', sa.Text(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
    sa.UniqueConstraint('key', name=op.f('uq_places_key'))
    )
    op.create_index(op.f('ix_places_country_kind'), 'places', ['country', 'kind'], unique=False)
    op.create_table('article_places',
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_places_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_article_places_entity_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_article_places_place_id_places')),
    sa.PrimaryKeyConstraint('article_id', 'entity_id', name=op.f('pk_article_places'))
    )
    op.create_index(op.f('ix_article_places_place_id_article_id'), 'article_places', ['place_id', 'article_id'],
                    unique=False)
    op.add_column('articles', sa.Column('country', sa.String(length=2), nullable=True))
    op.create_index(op.f('ix_articles_country'), 'articles', ['country'], unique=False)
    op.add_column('events', sa.Column('country', sa.String(length=2), nullable=True))
    op.create_index(op.f('ix_events_country'), 'events', ['country'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_country'), table_name='events')
    op.drop_column('events', 'country')
    op.drop_index(op.f('ix_articles_country'), table_name='articles')
    op.drop_column('articles', 'country')
    op.drop_index(op.f('ix_article_places_place_id_article_id'), table_name='article_places')
    op.drop_table('article_places')
    op.drop_index(op.f('ix_places_country_kind'), table_name='places')
    op.drop_table('places')
