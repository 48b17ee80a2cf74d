"""repair: a database that applied the first version of hard_a_2 keeps the encrypted TOTP secret in
users.totp_secret; the models read users.totp_secret_ciphertext (hard_a_2 as it is now). Rename it.

The first version changed the column's type in place, which PostgreSQL did and SQLite could not on a
populated database; hard_a_2 was rewritten to add a new column instead, under the same revision id.

Revision ID: hard_a_5
Revises: lists_1
Create Date: 2026-12-06 23:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'hard_a_5'
down_revision = 'lists_1'
branch_labels = None
depends_on = None


def upgrade():
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('users')}
    if 'totp_secret' in columns and 'totp_secret_ciphertext' not in columns:
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.alter_column('totp_secret', new_column_name='totp_secret_ciphertext',
                                  existing_type=sa.Text(), existing_nullable=True)


def downgrade():
    pass  # nothing to undo: a repaired database is what hard_a_2 makes now
