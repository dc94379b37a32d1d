"""dedupe keys: what a claim is found by, and when each of its events was received

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:20:00
"""
from alembic import op
import sqlalchemy as sa

import shared.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claim_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim_id', 'kind', 'value', name='uq_claim_keys')
    )
    op.create_index('ix_claim_keys_lookup', 'claim_keys', ['kind', 'value'], unique=False)
    with op.batch_alter_table('claim_events') as batch:
        batch.add_column(sa.Column('received_at', shared.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claim_events') as batch:
        batch.drop_column('received_at')
    op.drop_index('ix_claim_keys_lookup', table_name='claim_keys')
    op.drop_table('claim_keys')
