"""Entity identity and consensus labels across articles (issues 13.4 and 18.9).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

* ``entities.key``: the identity of an entity across articles (``pipeline.store.entities``:
  honorifics and dots dropped, a country's every name one key); rows stored before this revision
  get their lower-cased name, and ``newsstream reprocess`` gives them the full key.
* ``entity_labels``: the label each article gave each entity (the votes of its consensus label);
  ``entity_forms``: the forms each entity was named by; ``entity_label_history``: every change of an
  entity's label; ``entity_merges``: every entity merged into another (old id -> survivor, why, when).

Tables and a column are added and dropped; no table is rebuilt, the views stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('entities', sa.Column('key', sa.Text(), nullable=True))
    op.create_index(op.f('ix_entities_key'), 'entities', ['key'], unique=False)
    ents = sa.table('entities', sa.column('name', sa.Text()), sa.column('key', sa.Text()))
    op.execute(ents.update().values(key=sa.func.lower(ents.c.name)))
    op.create_table('entity_labels',
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_entity_labels_article_id_articles'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_entity_labels_entity_id_entities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'entity_id', name=op.f('pk_entity_labels'))
    )
    op.create_index(op.f('ix_entity_labels_entity_id'), 'entity_labels', ['entity_id'], unique=False)
    op.create_table('entity_forms',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_entity_forms_entity_id_entities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'entity_id', name=op.f('pk_entity_forms'))
    )
    op.create_index(op.f('ix_entity_forms_entity_id'), 'entity_forms', ['entity_id'], unique=False)
    op.create_table('entity_label_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('old_label', sa.Text(), nullable=True),
    sa.Column('new_label', sa.Text(), nullable=False),
    sa.Column('votes', sa.Text(), nullable=False),
    sa.Column('article_id', sa.String(length=200), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_label_history'))
    )
    op.create_index(op.f('ix_entity_label_history_entity_id'), 'entity_label_history', ['entity_id'], unique=False)
    op.create_table('entity_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_id', sa.Integer(), nullable=False),
    sa.Column('old_name', sa.Text(), nullable=False),
    sa.Column('old_label', sa.Text(), nullable=False),
    sa.Column('new_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('article_id', sa.String(length=200), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_merges'))
    )
    op.create_index(op.f('ix_entity_merges_old_id'), 'entity_merges', ['old_id'], unique=False)
    op.create_index(op.f('ix_entity_merges_new_id'), 'entity_merges', ['new_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_entity_merges_new_id'), table_name='entity_merges')
    op.drop_index(op.f('ix_entity_merges_old_id'), table_name='entity_merges')
    op.drop_table('entity_merges')
    op.drop_index(op.f('ix_entity_label_history_entity_id'), table_name='entity_label_history')
    op.drop_table('entity_label_history')
    op.drop_index(op.f('ix_entity_forms_entity_id'), table_name='entity_forms')
    op.drop_table('entity_forms')
    op.drop_index(op.f('ix_entity_labels_entity_id'), table_name='entity_labels')
    op.drop_table('entity_labels')
    op.drop_index(op.f('ix_entities_key'), table_name='entities')
    op.drop_column('entities', 'key')
