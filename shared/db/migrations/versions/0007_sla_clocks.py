"""SLA clocks: the pause ledger and met-at moments on the claim, its next firing moment (indexed),
the escalations fired, unique per claim, target and level, and the deadline rules claims were timed under

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import shared.db.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
MOMENT = shared.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('claims') as claims:
        claims.add_column(sa.Column('sla_pauses', DOCUMENT, nullable=False, server_default=sa.text("'[]'")))
        claims.add_column(sa.Column('first_response_at', MOMENT, nullable=True))
        claims.add_column(sa.Column('decided_at', MOMENT, nullable=True))
        claims.add_column(sa.Column('closed_at', MOMENT, nullable=True))
        claims.add_column(sa.Column('next_sla_at', MOMENT, nullable=True))
    op.create_index('ix_claims_next_sla', 'claims', ['next_sla_at'], unique=False,
                    postgresql_where=sa.text('next_sla_at IS NOT NULL'), sqlite_where=sa.text('next_sla_at IS NOT NULL'))
    op.create_table('sla_escalations',
    sa.Column('id', KEY, nullable=False),
    sa.Column('claim_id', KEY, nullable=False),
    sa.Column('target', sa.String(length=24), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('due_at', MOMENT, nullable=False),
    sa.Column('fired_at', MOMENT, nullable=False),
    sa.Column('fired_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim_id', 'target', 'level', name='uq_sla_escalations_once')
    )
    op.create_index(op.f('ix_sla_escalations_claim_id'), 'sla_escalations', ['claim_id'], unique=False)
    op.create_table('sla_policy_versions',
    sa.Column('id', KEY, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rules', DOCUMENT, nullable=False),
    sa.Column('applied_at', MOMENT, nullable=False),
    sa.Column('retimed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )


def downgrade() -> None:
    op.drop_table('sla_policy_versions')
    op.drop_index(op.f('ix_sla_escalations_claim_id'), table_name='sla_escalations')
    op.drop_table('sla_escalations')
    op.drop_index('ix_claims_next_sla', table_name='claims')
    with op.batch_alter_table('claims') as claims:
        for column in ('next_sla_at', 'closed_at', 'decided_at', 'first_response_at', 'sla_pauses'):
            claims.drop_column(column)
