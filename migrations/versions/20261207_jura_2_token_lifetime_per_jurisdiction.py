"""API token lifetime per jurisdiction

``api_token_policy`` gets a row per jurisdiction (``jurisdiction_id``, unique) instead of one platform-wide row:
the existing row, when there is one, becomes the nation's policy (every jurisdiction inherits it, as before).

The downgrade is refused, naming them, while a jurisdiction other than the nation has a policy of its own (the
older schema holds one platform-wide row only).

Revision ID: jura_2
Revises: jura_1
Create Date: 2026-12-07 04:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'jura_2'
down_revision = 'jura_1'
branch_labels = None
depends_on = None

NATION_CODE = '000000'

regions = sa.table('regions', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('name', sa.String))
policy = sa.table('api_token_policy', sa.column('id', sa.Integer), sa.column('jurisdiction_id', sa.Integer))


def upgrade():
    conn = op.get_bind()
    with op.batch_alter_table('api_token_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction_id', sa.Integer(), nullable=True))
    nation_id = conn.scalar(sa.select(regions.c.id).where(regions.c.code == NATION_CODE))  # made by juris_1
    conn.execute(sa.update(policy).values(jurisdiction_id=nation_id))
    if conn.dialect.name == 'postgresql':
        # the one row was written with id 1 and left the sequence behind: the next jurisdiction's row needs 2
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('api_token_policy', 'id'), "
                             "coalesce((SELECT max(id) FROM api_token_policy), 1), "
                             "(SELECT count(*) > 0 FROM api_token_policy))"))
    with op.batch_alter_table('api_token_policy', schema=None) as batch_op:
        batch_op.alter_column('jurisdiction_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_api_token_policy_single_row'), type_='check')
        batch_op.create_unique_constraint(batch_op.f('uq_api_token_policy_jurisdiction_id'), ['jurisdiction_id'])
        batch_op.create_foreign_key(batch_op.f('fk_api_token_policy_jurisdiction_id_regions'), 'regions',
                                    ['jurisdiction_id'], ['id'])


def downgrade():
    conn = op.get_bind()
    nation_id = conn.scalar(sa.select(regions.c.id).where(regions.c.code == NATION_CODE))
    others = conn.execute(sa.select(regions.c.name).join(policy, policy.c.jurisdiction_id == regions.c.id)
                          .where(regions.c.id != nation_id).order_by(regions.c.name)).scalars().all()
    if others:
        raise RuntimeError(f"jura_2 downgrade refused: {', '.join(others)} set an API token lifetime of their own; "
                           "the older schema holds one platform-wide lifetime")
    conn.execute(sa.update(policy).values(id=1))
    with op.batch_alter_table('api_token_policy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_token_policy_jurisdiction_id_regions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_api_token_policy_jurisdiction_id'), type_='unique')
        batch_op.create_check_constraint(batch_op.f('ck_api_token_policy_single_row'), sa.text('id = 1'))
        batch_op.drop_column('jurisdiction_id')
