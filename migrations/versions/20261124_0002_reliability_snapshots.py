"""reliability snapshots: the stored reliability panel of a campaign and the fingerprint of its data

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:08:52.922102

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reliability_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('seconds', sa.Double(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reliability_snapshots_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reliability_snapshots')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_reliability_snapshots_campaign_id'))
    )


def downgrade():
    op.drop_table('reliability_snapshots')
