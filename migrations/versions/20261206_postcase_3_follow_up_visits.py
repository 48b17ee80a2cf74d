"""follow-up visits (回访): plans, targets (client contact encrypted at rest), attempts, visits, complaints

Revision ID: postcase_3
Revises: hard_a_2
Create Date: 2026-12-06 21:49:55.884142

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'postcase_3'
down_revision = 'hard_a_2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followup_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('all', 'share', 'count', name='planmode', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('share', sa.String(length=16), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('population_digest', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followup_plans_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_followup_plans_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_plans')),
    sa.UniqueConstraint('agency_id', 'year', name=op.f('uq_followup_plans_agency_id_year'))
    )
    op.create_table('followup_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('lawyer_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('inclusion_probability', sa.Double(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'visited', 'unreachable', 'refused', name='targetstate', native_enum=False, create_constraint=True, length=19), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followup_targets_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_followup_targets_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lawyer_id'], ['lawyers.id'], name=op.f('fk_followup_targets_lawyer_id_lawyers')),
    sa.ForeignKeyConstraint(['plan_id'], ['followup_plans.id'], name=op.f('fk_followup_targets_plan_id_followup_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_targets')),
    sa.UniqueConstraint('plan_id', 'case_id', name=op.f('uq_followup_targets_plan_id_case_id'))
    )
    with op.batch_alter_table('followup_targets', schema=None) as batch_op:
        batch_op.create_index('ix_followup_targets_agency_state', ['agency_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_targets_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_targets_lawyer_id'), ['lawyer_id'], unique=False)

    op.create_table('followup_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('reached', 'no_answer', 'out_of_service', 'no_such_number', 'refused', name='attemptoutcome', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('caller_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['caller_id'], ['users.id'], name=op.f('fk_followup_attempts_caller_id_users')),
    sa.ForeignKeyConstraint(['target_id'], ['followup_targets.id'], name=op.f('fk_followup_attempts_target_id_followup_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_attempts'))
    )
    with op.batch_alter_table('followup_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_attempts_target_id'), ['target_id'], unique=False)

    op.create_table('followup_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('caller_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['followup_attempts.id'], name=op.f('fk_followup_visits_attempt_id_followup_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['caller_id'], ['users.id'], name=op.f('fk_followup_visits_caller_id_users')),
    sa.ForeignKeyConstraint(['target_id'], ['followup_targets.id'], name=op.f('fk_followup_visits_target_id_followup_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_visits')),
    sa.UniqueConstraint('target_id', name=op.f('uq_followup_visits_target_id'))
    )
    op.create_table('followup_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('lawyer_id', sa.Integer(), nullable=True),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('open', 'handled', name='complaintstate', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handling_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followup_complaints_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_followup_complaints_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_followup_complaints_handled_by_id_users')),
    sa.ForeignKeyConstraint(['lawyer_id'], ['lawyers.id'], name=op.f('fk_followup_complaints_lawyer_id_lawyers')),
    sa.ForeignKeyConstraint(['visit_id'], ['followup_visits.id'], name=op.f('fk_followup_complaints_visit_id_followup_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_complaints')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_followup_complaints_visit_id'))
    )
    with op.batch_alter_table('followup_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_complaints_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_complaints_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_complaints_lawyer_id'), ['lawyer_id'], unique=False)
        batch_op.create_index('ix_followup_complaints_state_opened', ['state', 'opened_at'], unique=False)



def downgrade():
    with op.batch_alter_table('followup_complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_complaints_state_opened')
        batch_op.drop_index(batch_op.f('ix_followup_complaints_lawyer_id'))
        batch_op.drop_index(batch_op.f('ix_followup_complaints_case_id'))
        batch_op.drop_index(batch_op.f('ix_followup_complaints_agency_id'))

    op.drop_table('followup_complaints')
    op.drop_table('followup_visits')
    with op.batch_alter_table('followup_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_attempts_target_id'))

    op.drop_table('followup_attempts')
    with op.batch_alter_table('followup_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_targets_lawyer_id'))
        batch_op.drop_index(batch_op.f('ix_followup_targets_case_id'))
        batch_op.drop_index('ix_followup_targets_agency_state')

    op.drop_table('followup_targets')
    op.drop_table('followup_plans')
