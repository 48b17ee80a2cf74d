"""rubric versions owned by a jurisdiction

Every rubric version gets an owner (``rubric_versions.jurisdiction_id``): the province it was used in (pinned by
a campaign, scored under by a review, or used by a calibration reference of a campaign owned in that province or
below it), else the nation — a version used in several provinces, or in none, belongs to the nation, which every
jurisdiction sees. Nothing is lost: every version keeps its number and definition, and every province that used
a version still sees it. Versions are then unique per owner, key and number.

The downgrade is refused, naming the versions, while two owners hold the same key and number (the old schema
numbered versions per key across the platform).

Revision ID: jura_1
Revises: harden_1
Create Date: 2026-12-07 04:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'jura_1'
down_revision = 'harden_1'
branch_labels = None
depends_on = None

NATION_CODE = '000000'

regions = sa.table('regions', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('name', sa.String),
                   sa.column('level', sa.String), sa.column('parent_id', sa.Integer))
versions = sa.table('rubric_versions', sa.column('id', sa.Integer), sa.column('key', sa.String),
                    sa.column('version', sa.Integer), sa.column('jurisdiction_id', sa.Integer))
campaigns = sa.table('campaigns', sa.column('id', sa.Integer), sa.column('jurisdiction_id', sa.Integer))
pins = sa.table('campaign_rubrics', sa.column('campaign_id', sa.Integer), sa.column('rubric_version_id', sa.Integer))
samples = sa.table('samples', sa.column('id', sa.Integer), sa.column('campaign_id', sa.Integer))
assignments = sa.table('assignments', sa.column('id', sa.Integer), sa.column('sample_id', sa.Integer))
reviews = sa.table('reviews', sa.column('assignment_id', sa.Integer), sa.column('rubric_version_id', sa.Integer))
references = sa.table('calibration_references', sa.column('sample_id', sa.Integer),
                      sa.column('rubric_version_id', sa.Integer))


def _province_of(parent, level, region_id):
    seen = set()
    while region_id is not None and region_id not in seen:
        seen.add(region_id)
        if level.get(region_id) == 'province':
            return region_id
        region_id = parent.get(region_id)
    return None


def upgrade():
    conn = op.get_bind()
    with op.batch_alter_table('rubric_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction_id', sa.Integer(), nullable=True))

    nation_id = conn.scalar(sa.select(regions.c.id).where(regions.c.code == NATION_CODE))
    if nation_id is None:  # juris_1 creates it; a database wiped of regions since still needs an owner
        nation_id = (conn.scalar(sa.select(sa.func.max(regions.c.id))) or 0) + 1
        conn.execute(sa.insert(regions).values(id=nation_id, code=NATION_CODE, name='全国', level='nation',
                                               parent_id=None))
        if conn.dialect.name == 'postgresql':
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('regions', 'id'), "
                                 "(SELECT max(id) FROM regions))"))
    parent, level = {}, {}
    for rid, parent_id, lv in conn.execute(sa.select(regions.c.id, regions.c.parent_id, regions.c.level)):
        parent[rid], level[rid] = parent_id, lv

    # the jurisdictions of the campaigns that used each version
    used = {}
    uses = [
        sa.select(pins.c.rubric_version_id, campaigns.c.jurisdiction_id)
        .join(campaigns, campaigns.c.id == pins.c.campaign_id),
        sa.select(reviews.c.rubric_version_id, campaigns.c.jurisdiction_id)
        .join(assignments, assignments.c.id == reviews.c.assignment_id)
        .join(samples, samples.c.id == assignments.c.sample_id)
        .join(campaigns, campaigns.c.id == samples.c.campaign_id),
        sa.select(references.c.rubric_version_id, campaigns.c.jurisdiction_id)
        .join(samples, samples.c.id == references.c.sample_id)
        .join(campaigns, campaigns.c.id == samples.c.campaign_id),
    ]
    for stmt in uses:
        for version_id, jurisdiction_id in conn.execute(stmt.distinct()):
            used.setdefault(version_id, set()).add(jurisdiction_id)
    for version_id in conn.scalars(sa.select(versions.c.id)).all():
        provinces = {_province_of(parent, level, j) for j in used.get(version_id, ())}
        owner = provinces.pop() if len(provinces) == 1 and None not in provinces else nation_id
        conn.execute(sa.update(versions).where(versions.c.id == version_id).values(jurisdiction_id=owner))

    with op.batch_alter_table('rubric_versions', schema=None) as batch_op:
        batch_op.alter_column('jurisdiction_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_rubric_versions_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_rubric_versions_jurisdiction_id_regions'), 'regions',
                                    ['jurisdiction_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('uq_rubric_versions_key_version'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_rubric_versions_jurisdiction_id_key_version'),
                                          ['jurisdiction_id', 'key', 'version'])


def downgrade():
    conn = op.get_bind()
    clashes = conn.execute(sa.select(versions.c.key, versions.c.version).group_by(versions.c.key, versions.c.version)
                           .having(sa.func.count() > 1).order_by(versions.c.key, versions.c.version)).all()
    if clashes:
        named = ', '.join(f'{key} v{number}' for key, number in clashes)
        raise RuntimeError(f"jura_1 downgrade refused: rubric versions {named} exist under several jurisdictions; "
                           "the older schema numbers versions per key across the platform")
    with op.batch_alter_table('rubric_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_rubric_versions_jurisdiction_id_key_version'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_rubric_versions_key_version'), ['key', 'version'])
        batch_op.drop_constraint(batch_op.f('fk_rubric_versions_jurisdiction_id_regions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_rubric_versions_jurisdiction_id'))
        batch_op.drop_column('jurisdiction_id')
