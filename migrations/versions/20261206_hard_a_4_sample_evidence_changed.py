"""samples.evidence_changed_at: when the organiser last changed the frozen case's file

Revision ID: hard_a_4
Revises: anon_pages_1
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'hard_a_4'
down_revision = 'anon_pages_1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('samples', sa.Column('evidence_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE samples SET evidence_changed_at = (SELECT max(at) FROM evidence_changes "
               "WHERE evidence_changes.case_id = samples.case_id)")


def downgrade():
    op.drop_column('samples', 'evidence_changed_at')
