"""risk-weighted sampling: the risk mode of sampling plans, the frozen risk signals, each sample's inclusion
probability and signals

Revision ID: postcase_4
Revises: juris_1
Create Date: 2026-12-07 01:00:00

Existing samples of fixed, proportion and census plans get their inclusion probability from the stored
sampling report (sample / population of their stratum); designated plans are not random and keep none.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'postcase_4'
down_revision = 'juris_1'
branch_labels = None
depends_on = None

OLD_MODE = sa.Enum('fixed', 'proportion', 'designated', 'census', name='samplingmode', native_enum=False, create_constraint=True, length=18)
NEW_MODE = sa.Enum('fixed', 'proportion', 'designated', 'census', 'risk', name='samplingmode', native_enum=False, create_constraint=True, length=18)


def _backfill(bind):
    plans = bind.execute(sa.text("SELECT campaign_id, mode, params, strata FROM sampling_plans "
                                 "WHERE mode IN ('fixed', 'proportion', 'census')")).all()
    update = sa.text("UPDATE samples SET inclusion_probability = :p WHERE campaign_id = :c AND stratum = :s")
    for campaign_id, _mode, params, strata in plans:
        params = json.loads(params) if isinstance(params, str) else (params or {})
        strata = json.loads(strata) if isinstance(strata, str) else (strata or [])
        rows = [r for r in params.get("report", [])[:-1] if r.get("population")]  # the last row is the total
        for row in rows:
            label = " / ".join(str(row.get(name, "")) for name in strata)[:96]
            bind.execute(update, {"p": min(1.0, row["sample"] / row["population"]), "c": campaign_id, "s": label})


def upgrade():
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.alter_column('mode', existing_type=OLD_MODE, type_=NEW_MODE, existing_nullable=False)
        batch_op.add_column(sa.Column('risk_signals', sa.JSON(), nullable=True))
    op.add_column('samples', sa.Column('inclusion_probability', sa.Double(), nullable=True))
    op.add_column('samples', sa.Column('risk_signals', sa.Integer(), nullable=True))
    _backfill(op.get_bind())


def downgrade():
    risky = op.get_bind().execute(sa.text("SELECT campaign_id FROM sampling_plans WHERE mode = 'risk' "
                                          "ORDER BY campaign_id")).scalars().all()
    if risky:
        raise RuntimeError("cannot downgrade below postcase_4: campaigns "
                           f"{', '.join(map(str, risky))} use the risk sampling mode, which the older schema "
                           "cannot hold; change their plans (or delete the campaigns) first")
    op.drop_column('samples', 'risk_signals')
    op.drop_column('samples', 'inclusion_probability')
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.drop_column('risk_signals')
        batch_op.alter_column('mode', existing_type=NEW_MODE, type_=OLD_MODE, existing_nullable=False)
