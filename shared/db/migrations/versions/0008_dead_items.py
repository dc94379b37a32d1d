"""The dead list: items a stage set aside after they failed on their own

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:00:00
"""
from alembic import op
import sqlalchemy as sa

import shared.db.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
MOMENT = shared.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('dead_items',
    sa.Column('id', KEY, nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('item_id', KEY, nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', MOMENT, nullable=False),
    sa.Column('resolved_at', MOMENT, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage', 'item_id', name='uq_dead_items_stage_item'))
    op.create_index('ix_dead_items_status', 'dead_items', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dead_items_status', table_name='dead_items')
    op.drop_table('dead_items')
