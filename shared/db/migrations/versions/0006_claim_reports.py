"""claim_reports: the closing report of each claim, a new version at each closing or late answer

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 12:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import shared.db.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('claim_reports',
    sa.Column('id', KEY, nullable=False),
    sa.Column('claim_id', KEY, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('produced_at', shared.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dossier', DOCUMENT, nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim_id', 'version', name='uq_claim_reports_version')
    )
    op.create_index(op.f('ix_claim_reports_claim_id'), 'claim_reports', ['claim_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_claim_reports_claim_id'), table_name='claim_reports')
    op.drop_table('claim_reports')
