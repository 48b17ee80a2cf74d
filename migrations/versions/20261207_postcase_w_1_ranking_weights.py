"""ranking weights: per jurisdiction, versioned weights of the post-case sources in the rankings and pool rule

Revision ID: postcase_w_1
Revises: jura_3
Create Date: 2026-12-07 04:30:00

No row means version 0 (the peer review alone), so existing rankings are unchanged.
"""
import sqlalchemy as sa
from alembic import op

revision = 'postcase_w_1'
down_revision = 'jura_3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ranking_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ranking_weights_created_by_id_users')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['regions.id'], name=op.f('fk_ranking_weights_jurisdiction_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ranking_weights')),
    sa.UniqueConstraint('jurisdiction_id', 'version', name=op.f('uq_ranking_weights_jurisdiction_id_version'))
    )
    with op.batch_alter_table('ranking_weights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ranking_weights_jurisdiction_id'), ['jurisdiction_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ranking_weights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ranking_weights_jurisdiction_id'))
    op.drop_table('ranking_weights')
