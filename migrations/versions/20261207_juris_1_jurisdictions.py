"""jurisdictions: the nation region above the provinces, owners of campaigns and reviewer pools, organisers'
jurisdiction and the national read-only role

Moves the existing data into the tree without loss: one nation region (code 000000, 全国) becomes the parent
of every province; each campaign is owned by the province containing its scope, each reviewer belongs to the
pool of the province containing their region, each organiser works for the province of the installation (when
there are several: the province of the campaigns they created or changed, else the nation). Where nothing
decides a province (no province at all, or a scope spanning several), the nation owns it.

Revision ID: juris_1
Revises: hard_a_5
Create Date: 2026-12-07 00:50:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'juris_1'
down_revision = 'hard_a_5'
branch_labels = None
depends_on = None

NATION_CODE = '000000'

OLD_LEVEL = sa.Enum('province', 'city', 'county', name='regionlevel', native_enum=False, create_constraint=True,
                    length=16)
NEW_LEVEL = sa.Enum('nation', 'province', 'city', 'county', name='regionlevel', native_enum=False,
                    create_constraint=True, length=16)
OLD_ROLE = sa.Enum('organiser', 'agency_staff', 'peer_reviewer', 'evaluator', 'adjudicator', 'second_checker',
                   name='role', native_enum=False, create_constraint=True, length=22)
NEW_ROLE = sa.Enum('organiser', 'agency_staff', 'peer_reviewer', 'evaluator', 'adjudicator', 'second_checker',
                   'ministry', name='role', native_enum=False, create_constraint=True, length=22)

regions = sa.table('regions', sa.column('id', sa.Integer), sa.column('code', sa.String),
                   sa.column('name', sa.String), sa.column('level', sa.String), sa.column('parent_id', sa.Integer))
agencies = sa.table('agencies', sa.column('id', sa.Integer), sa.column('region_id', sa.Integer))
campaigns = sa.table('campaigns', sa.column('id', sa.Integer), sa.column('scope_kind', sa.String),
                     sa.column('scope_region_id', sa.Integer), sa.column('scope_agency_ids', sa.JSON),
                     sa.column('created_by_id', sa.Integer), sa.column('jurisdiction_id', sa.Integer))
profiles = sa.table('reviewer_profiles', sa.column('id', sa.Integer), sa.column('region_id', sa.Integer),
                    sa.column('jurisdiction_id', sa.Integer))
users = sa.table('users', sa.column('id', sa.Integer), sa.column('jurisdiction_id', sa.Integer))
user_roles = sa.table('user_roles', sa.column('user_id', sa.Integer), sa.column('role', sa.String))
audit = sa.table('audit_events', sa.column('actor_id', sa.Integer), sa.column('object_type', sa.String),
                 sa.column('object_id', sa.Integer))


class _Tree:
    """The regions as plain rows, to find the province above any of them."""

    def __init__(self, conn):
        self.parent = {}
        self.level = {}
        for rid, parent_id, level in conn.execute(sa.select(regions.c.id, regions.c.parent_id, regions.c.level)):
            self.parent[rid] = parent_id
            self.level[rid] = level
        self.provinces = sorted(r for r, lv in self.level.items() if lv == 'province')

    def province_of(self, region_id):
        seen = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            if self.level.get(region_id) == 'province':
                return region_id
            region_id = self.parent.get(region_id)
        return None

    def owner(self, region_ids, nation_id):
        """The one province containing every region given (the only province when none are given)."""
        if not region_ids:
            return self.provinces[0] if len(self.provinces) == 1 else nation_id
        found = {self.province_of(r) for r in region_ids}
        if len(found) == 1 and None not in found:
            return found.pop()
        if found == {None} and len(self.provinces) == 1:  # regions hung under no province: the only one
            return self.provinces[0]
        return nation_id


def upgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.alter_column('level', existing_type=OLD_LEVEL, type_=NEW_LEVEL, existing_nullable=False)
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=OLD_ROLE, type_=NEW_ROLE, existing_nullable=False)

    conn = op.get_bind()
    nation_id = conn.scalar(sa.select(regions.c.id).where(regions.c.code == NATION_CODE))
    if nation_id is None:
        # an explicit id past the largest: rows loaded with their own ids (a restore) leave PostgreSQL's
        # sequence behind, and the sequence is moved past it afterwards
        nation_id = (conn.scalar(sa.select(sa.func.max(regions.c.id))) or 0) + 1
        conn.execute(sa.insert(regions).values(id=nation_id, code=NATION_CODE, name='全国', level='nation',
                                               parent_id=None))
        if conn.dialect.name == 'postgresql':
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('regions', 'id'), "
                                 "(SELECT max(id) FROM regions))"))
    conn.execute(sa.update(regions).where(regions.c.level == 'province', regions.c.parent_id.is_(None))
                 .values(parent_id=nation_id))
    tree = _Tree(conn)

    for table in ('users', 'campaigns', 'reviewer_profiles'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('jurisdiction_id', sa.Integer(), nullable=True))

    # campaigns: the province containing the scope
    agency_region = dict(conn.execute(sa.select(agencies.c.id, agencies.c.region_id)).all())
    owner_of_campaign = {}
    for cid, kind, region_id, agency_ids in conn.execute(
            sa.select(campaigns.c.id, campaigns.c.scope_kind, campaigns.c.scope_region_id,
                      campaigns.c.scope_agency_ids)):
        if kind == 'agencies':
            scope = {agency_region[a] for a in (agency_ids or []) if a in agency_region}
        else:
            scope = {region_id} if region_id is not None else set()
        owner_of_campaign[cid] = tree.owner(scope, nation_id)
        conn.execute(sa.update(campaigns).where(campaigns.c.id == cid)
                     .values(jurisdiction_id=owner_of_campaign[cid]))

    # reviewer pools: the province of the reviewer's region
    for pid, region_id in conn.execute(sa.select(profiles.c.id, profiles.c.region_id)).all():
        conn.execute(sa.update(profiles).where(profiles.c.id == pid)
                     .values(jurisdiction_id=tree.owner({region_id}, nation_id)))

    # organisers: the installation's province; with several, that of the campaigns they created or changed
    organisers = list(conn.scalars(sa.select(user_roles.c.user_id).where(user_roles.c.role == 'organiser')))
    for uid in organisers:
        if len(tree.provinces) == 1:
            place = tree.provinces[0]
        else:
            touched = set(conn.scalars(sa.select(campaigns.c.id).where(campaigns.c.created_by_id == uid)))
            touched |= set(conn.scalars(sa.select(audit.c.object_id).where(
                audit.c.actor_id == uid, audit.c.object_type == 'campaign')))
            owners = {owner_of_campaign[c] for c in touched if c in owner_of_campaign}
            place = owners.pop() if len(owners) == 1 else nation_id
        conn.execute(sa.update(users).where(users.c.id == uid).values(jurisdiction_id=place))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_jurisdiction_id_regions'), 'regions',
                                    ['jurisdiction_id'], ['id'])
    for table in ('campaigns', 'reviewer_profiles'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('jurisdiction_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_jurisdiction_id'), ['jurisdiction_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_jurisdiction_id_regions'), 'regions',
                                        ['jurisdiction_id'], ['id'])


def downgrade():
    for table in ('reviewer_profiles', 'campaigns', 'users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_jurisdiction_id_regions'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_jurisdiction_id'))
            batch_op.drop_column('jurisdiction_id')

    conn = op.get_bind()
    # the national read-only role and the nation have no place in the older schema
    conn.execute(sa.delete(user_roles).where(user_roles.c.role == 'ministry'))
    nations = list(conn.scalars(sa.select(regions.c.id).where(regions.c.level == 'nation')))
    if nations:
        conn.execute(sa.update(regions).where(regions.c.parent_id.in_(nations)).values(parent_id=None))
        conn.execute(sa.delete(regions).where(regions.c.id.in_(nations)))

    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=NEW_ROLE, type_=OLD_ROLE, existing_nullable=False)
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.alter_column('level', existing_type=NEW_LEVEL, type_=OLD_LEVEL, existing_nullable=False)
