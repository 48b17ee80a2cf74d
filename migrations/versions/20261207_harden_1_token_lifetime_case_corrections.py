"""API token lifetime set by the organiser; corrected case fields in evidence_changes; 'case_changed' notices

Revision ID: harden_1
Revises: postcase_4
Create Date: 2026-12-07 01:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'harden_1'
down_revision = 'postcase_4'
branch_labels = None
depends_on = None

OLD_KINDS = ('offer', 'decision', 'due_soon', 'overdue', 'appeal_filed', 'appeal_decided', 'published')
NEW_KINDS = (*OLD_KINDS, 'case_changed')
KIND_TABLES = ('notifications', 'notification_email_opt_outs')


def _kinds(kinds):
    for table in KIND_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_notificationkind'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_notificationkind'),
                                             sa.column('kind').in_(kinds))


def upgrade():
    op.create_table('api_token_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_days', sa.Integer(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('default_days >= 1 AND default_days <= max_days', name=op.f('ck_api_token_policy_default_within_max')),
    sa.CheckConstraint('max_days <= 3650', name=op.f('ck_api_token_policy_max_within_limit')),
    sa.CheckConstraint('id = 1', name=op.f('ck_api_token_policy_single_row')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_api_token_policy_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token_policy'))
    )
    with op.batch_alter_table('evidence_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.JSON(), nullable=True))
    _kinds(NEW_KINDS)


def downgrade():
    for table in KIND_TABLES:
        op.execute(sa.table(table, sa.column('kind')).delete().where(sa.column('kind') == 'case_changed'))
    _kinds(OLD_KINDS)
    op.execute(sa.text("DELETE FROM evidence_changes WHERE action = 'fields_corrected'"))
    with op.batch_alter_table('evidence_changes', schema=None) as batch_op:
        batch_op.drop_column('fields')
    op.drop_table('api_token_policy')
