"""redaction review: case-fact redactions, suspicious flags, proposals, redacted appeal texts

Reviewers read the case's free-text fields redacted (``case_redactions``, approved with the documents);
a document's redaction keeps the checker's flags and what a re-run of the redactor proposes; an appeal
keeps its reason and its attachments' text as re-reviewers read them; a job record may be one part of a
larger job (the chunks of a campaign's redaction, shared by RQ workers).

Revision ID: anon_pages_1
Revises: workflow_1
Create Date: 2026-12-06 21:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'anon_pages_1'
down_revision = 'workflow_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_redactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('spans', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('open_flags', sa.Integer(), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'approved', name='redactionstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_case_redactions_approved_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_redactions_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_redactions')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_redactions_case_id'))
    )
    with op.batch_alter_table('case_redactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_redactions_status'), ['status'], unique=False)

    with op.batch_alter_table('redactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('open_flags', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('proposed_spans', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('proposed_text', sa.Text(), nullable=True))
    with op.batch_alter_table('redactions', schema=None) as batch_op:
        batch_op.alter_column('flags', server_default=None)
        batch_op.alter_column('open_flags', server_default=None)

    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_records_parent_id'), ['parent_id'], unique=False)
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_redacted', sa.Text(), nullable=True))
    with op.batch_alter_table('appeal_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_text', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('appeal_attachments', schema=None) as batch_op:
        batch_op.drop_column('redacted_text')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('reason_redacted')
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_records_parent_id'))
        batch_op.drop_column('parent_id')
    with op.batch_alter_table('redactions', schema=None) as batch_op:
        batch_op.drop_column('proposed_text')
        batch_op.drop_column('proposed_spans')
        batch_op.drop_column('open_flags')
        batch_op.drop_column('flags')
    with op.batch_alter_table('case_redactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_redactions_status'))
    op.drop_table('case_redactions')
