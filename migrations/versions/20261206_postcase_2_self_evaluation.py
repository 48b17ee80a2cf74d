"""self-evaluation of every closed case (一案一评): the agency's own view, one per case

Revision ID: postcase_2
Revises: postcase_1
Create Date: 2026-12-06 21:45:33.807865

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'postcase_2'
down_revision = 'postcase_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('self_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('form_version', sa.String(length=20), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('authority_feedback', sa.Text(), nullable=False),
    sa.Column('feedback_filename', sa.String(length=256), nullable=True),
    sa.Column('feedback_storage_key', sa.String(length=128), nullable=True),
    sa.Column('feedback_content_type', sa.String(length=128), nullable=True),
    sa.Column('evaluated_by_id', sa.Integer(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_self_evaluations_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_self_evaluations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evaluated_by_id'], ['users.id'], name=op.f('fk_self_evaluations_evaluated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_evaluations')),
    sa.UniqueConstraint('case_id', name=op.f('uq_self_evaluations_case_id'))
    )
    with op.batch_alter_table('self_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_self_evaluations_agency_score', ['agency_id', 'score'], unique=False)



def downgrade():
    with op.batch_alter_table('self_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_self_evaluations_agency_score')

    op.drop_table('self_evaluations')
