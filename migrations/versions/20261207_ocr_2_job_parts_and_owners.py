"""jobs that wait for their parts and the process that holds a job; how often a scanned page was begun

Revision ID: ocr_2
Revises: postcase_w_1
Create Date: 2026-12-07 04:00:00

job_records.work_ended_at: a job whose work queued OCR page jobs stays running until they have ended.
job_records.owner: the process holding a job ("host:pid:start"), so that a job whose process died is
recovered. document_pages.attempts: how many times a job began reading the page.
"""
import sqlalchemy as sa
from alembic import op

revision = 'ocr_2'
down_revision = 'postcase_w_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=160), nullable=True))
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.drop_column('attempts')
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.drop_column('owner')
        batch_op.drop_column('work_ended_at')
