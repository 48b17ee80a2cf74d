"""documents: the OCR engine and model that read them; document_pages: scanned pages OCR'd one job each

Revision ID: ocr_1
Revises: hard_a_1
Create Date: 2026-12-06 21:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'ocr_1'
down_revision = 'hard_a_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_engine', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ocr_model', sa.String(length=160), nullable=True))
    op.create_table('document_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='pagestate', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_detail', sa.Text(), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_pages_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_pages')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_pages_document_id_number'))
    )
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_pages_document_id'), ['document_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_pages_document_id'))
    op.drop_table('document_pages')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('ocr_model')
        batch_op.drop_column('ocr_engine')
