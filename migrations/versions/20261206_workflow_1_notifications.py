"""notifications: the in-platform list per user and the e-mail opt-outs

Revision ID: workflow_1
Revises: hard_a_3
Create Date: 2026-12-06 22:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'workflow_1'
down_revision = 'hard_a_3'
branch_labels = None
depends_on = None

KINDS = ('offer', 'decision', 'due_soon', 'overdue', 'appeal_filed', 'appeal_decided', 'published')


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='notificationkind', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'kind', 'object_id', name=op.f('uq_notifications_user_id_kind_object_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)
    op.create_table('notification_email_opt_outs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='notificationkind', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_email_opt_outs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_email_opt_outs'))
    )


def downgrade():
    op.drop_table('notification_email_opt_outs')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')
    op.drop_table('notifications')
