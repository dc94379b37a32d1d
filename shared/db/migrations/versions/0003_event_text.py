"""what each event of a claim said, so that dedupe compares a new event with all of them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claim_events') as batch:
        batch.add_column(sa.Column('text', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claim_events') as batch:
        batch.drop_column('text')
