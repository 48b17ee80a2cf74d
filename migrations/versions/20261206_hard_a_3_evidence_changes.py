"""evidence changes: the organiser's changes to a frozen case's file, with the reason

Revision ID: hard_a_3
Revises: postcase_3
Create Date: 2026-12-06 22:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'hard_a_3'
down_revision = 'postcase_3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'evidence_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('document_kind', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('reason_redacted', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_evidence_changes_actor_id_users')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_evidence_changes_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_changes')),
    )
    with op.batch_alter_table('evidence_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_changes_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('evidence_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_changes_case_id'))
    op.drop_table('evidence_changes')
