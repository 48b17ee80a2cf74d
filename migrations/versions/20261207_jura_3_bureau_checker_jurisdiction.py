"""bureau second-level closing checkers work for a jurisdiction

A second-level checker without an agency (the bureau's) now sees and checks the closing reviews of the agencies
in its jurisdiction (``users.jurisdiction_id``) only. Existing ones get the installation's province when there is
one province, else the nation — so that none of them loses a file it checked before.

The downgrade clears their jurisdiction again (the older code ignores it for checkers).

Revision ID: jura_3
Revises: jura_2
Create Date: 2026-12-07 04:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'jura_3'
down_revision = 'jura_2'
branch_labels = None
depends_on = None

NATION_CODE = '000000'

regions = sa.table('regions', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('level', sa.String))
users = sa.table('users', sa.column('id', sa.Integer), sa.column('agency_id', sa.Integer),
                 sa.column('jurisdiction_id', sa.Integer))
user_roles = sa.table('user_roles', sa.column('user_id', sa.Integer), sa.column('role', sa.String))


def _bureau_checkers():
    return (sa.select(user_roles.c.user_id).join(users, users.c.id == user_roles.c.user_id)
            .where(user_roles.c.role == 'second_checker', users.c.agency_id.is_(None)))


def upgrade():
    conn = op.get_bind()
    provinces = conn.execute(sa.select(regions.c.id).where(regions.c.level == 'province')).scalars().all()
    place = provinces[0] if len(provinces) == 1 else conn.scalar(
        sa.select(regions.c.id).where(regions.c.code == NATION_CODE))
    conn.execute(sa.update(users).where(users.c.id.in_(_bureau_checkers()), users.c.jurisdiction_id.is_(None))
                 .values(jurisdiction_id=place))


def downgrade():
    conn = op.get_bind()
    organising = sa.select(user_roles.c.user_id).where(user_roles.c.role.in_(('organiser', 'ministry')))
    conn.execute(sa.update(users).where(users.c.id.in_(_bureau_checkers()), users.c.id.not_in(organising))
                 .values(jurisdiction_id=None))
