"""closing review (结案审查, two levels): reviews, their checks and item marks; the second-level checker role

Revision ID: postcase_1
Revises: ocr_1
Create Date: 2026-12-06 21:26:23.817662

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'postcase_1'
down_revision = 'ocr_1'
branch_labels = None
depends_on = None

OLD_ROLE = sa.Enum('organiser', 'agency_staff', 'peer_reviewer', 'evaluator', 'adjudicator', name='role', native_enum=False, create_constraint=True, length=21)
NEW_ROLE = sa.Enum('organiser', 'agency_staff', 'peer_reviewer', 'evaluator', 'adjudicator', 'second_checker', name='role', native_enum=False, create_constraint=True, length=22)


def upgrade():
    op.create_table('closing_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('awaiting_first', 'awaiting_second', 'returned', 'closed', name='closingstate', native_enum=False, create_constraint=True, length=23), nullable=False),
    sa.Column('checklist_code', sa.String(length=40), nullable=False),
    sa.Column('checklist_version', sa.String(length=20), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('first_checker_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_closing_reviews_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_closing_reviews_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_checker_id'], ['users.id'], name=op.f('fk_closing_reviews_first_checker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closing_reviews')),
    sa.UniqueConstraint('case_id', name=op.f('uq_closing_reviews_case_id'))
    )
    with op.batch_alter_table('closing_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_closing_reviews_agency_state', ['agency_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_closing_reviews_closed_at'), ['closed_at'], unique=False)

    op.create_table('closing_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('passed', 'returned', name='checkoutcome', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['checker_id'], ['users.id'], name=op.f('fk_closing_checks_checker_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['closing_reviews.id'], name=op.f('fk_closing_checks_review_id_closing_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closing_checks'))
    )
    with op.batch_alter_table('closing_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closing_checks_review_id'), ['review_id'], unique=False)

    op.create_table('closing_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('present', 'missing', 'defective', 'not_applicable', name='markstatus', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['closing_checks.id'], name=op.f('fk_closing_marks_check_id_closing_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closing_marks'))
    )
    with op.batch_alter_table('closing_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closing_marks_check_id'), ['check_id'], unique=False)
        batch_op.create_index('ix_closing_marks_status_item', ['status', 'item_code'], unique=False)

    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role',
               existing_type=OLD_ROLE,
               type_=NEW_ROLE,
               existing_nullable=False)



def downgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role',
               existing_type=NEW_ROLE,
               type_=OLD_ROLE,
               existing_nullable=False)

    with op.batch_alter_table('closing_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_closing_marks_status_item')
        batch_op.drop_index(batch_op.f('ix_closing_marks_check_id'))

    op.drop_table('closing_marks')
    with op.batch_alter_table('closing_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closing_checks_review_id'))

    op.drop_table('closing_checks')
    with op.batch_alter_table('closing_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closing_reviews_closed_at'))
        batch_op.drop_index('ix_closing_reviews_agency_state')

    op.drop_table('closing_reviews')
