"""results: the current-result index also covers id

"The current result of a sample" orders by id and takes one row. With an index on (sample_id, current)
only, PostgreSQL without fresh statistics (right after consolidation's bulk insert) chose a backward scan
of the primary key, filtering every row: the national pipeline's adjudication decisions slowed to a crawl.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:35:00

"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index('ix_results_sample_current')
        batch_op.create_index('ix_results_sample_current', ['sample_id', 'current', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index('ix_results_sample_current')
        batch_op.create_index('ix_results_sample_current', ['sample_id', 'current'], unique=False)
