"""cases: an index in the cases list's order (year, agency, case number)

The cases list reads its pages in this order, by key (the last case of the previous page) or by position for
a page jump; without the index every page sorted all cases.

Revision ID: lists_1
Revises: hard_a_4
Create Date: 2026-12-06 23:10:00

"""
from alembic import op

revision = 'lists_1'
down_revision = 'hard_a_4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_list_order', ['year', 'agency_id', 'case_number'], unique=False)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_list_order')
