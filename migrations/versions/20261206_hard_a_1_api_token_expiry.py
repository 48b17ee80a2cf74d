"""api tokens: an expiry and an optional list of campaigns

Tokens issued before this revision get the default lifetime (90 days) from the upgrade, so none lives on
without an end.

Revision ID: hard_a_1
Revises: 0003
Create Date: 2026-12-06 21:50:00

"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = 'hard_a_1'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('campaign_ids', sa.JSON(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime(timezone=True)))
    expires = datetime.now(UTC) + timedelta(days=90)
    if op.get_bind().dialect.name == 'sqlite':  # as evalplat.db.UTCDateTime stores it there
        expires = expires.replace(tzinfo=None)
    op.execute(tokens.update().values(expires_at=expires))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('campaign_ids')
        batch_op.drop_column('expires_at')
