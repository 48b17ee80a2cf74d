"""sign-in hardening: throttled and cleared attempts; TOTP secret encrypted, pending secret, last step

login_attempts.throttled marks attempts refused unexamined while an account or address waits;
login_attempts.cleared marks failures an organiser cleared. users.totp_secret moves to the encrypted column
users.totp_secret_ciphertext (existing secrets are encrypted with the configured key ring), users.totp_pending
keeps a secret being set up on the server, and users.totp_last_step makes a code good once only.

Revision ID: hard_a_2
Revises: postcase_2
Create Date: 2026-12-06 22:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'hard_a_2'
down_revision = 'postcase_2'
branch_labels = None
depends_on = None

CONTEXT = b'users.totp_secret'  # the associated data of evalplat.accounts.models.User.totp_secret


def _copy_secrets(source, target, convert):
    """Copy every second-factor secret from column ``source`` to ``target`` through ``convert``."""
    users = sa.table('users', sa.column('id', sa.Integer), sa.column(source, sa.Text), sa.column(target, sa.Text))
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c[source]).where(users.c[source].is_not(None))).all()
    if not rows:
        return
    from evalplat.files.encrypted_type import current_keyring

    keyring = current_keyring()  # CryptoError keyring_not_configured: run through `flask db upgrade`
    for ident, value in rows:
        bind.execute(users.update().where(users.c.id == ident).values({target: convert(keyring, value)}))


# Columns are added and dropped in place (SQLite's ALTER TABLE ADD/DROP COLUMN): rebuilding ``users`` on SQLite
# would drop a table that every other table references.
def upgrade():
    op.add_column('login_attempts', sa.Column('throttled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('login_attempts', sa.Column('cleared', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('totp_secret_ciphertext', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('totp_pending', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    _copy_secrets('totp_secret', 'totp_secret_ciphertext',
                  lambda keyring, value: keyring.encrypt_text(value, aad=CONTEXT))
    op.drop_column('users', 'totp_secret')


def downgrade():
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    _copy_secrets('totp_secret_ciphertext', 'totp_secret',
                  lambda keyring, value: keyring.decrypt_text(value, aad=CONTEXT))
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_pending')
    op.drop_column('users', 'totp_secret_ciphertext')
    op.drop_column('login_attempts', 'cleared')
    op.drop_column('login_attempts', 'throttled')
