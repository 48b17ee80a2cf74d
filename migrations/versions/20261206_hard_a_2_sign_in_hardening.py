"""sign-in hardening: throttled and cleared attempts; TOTP secret encrypted, pending secret, last step

login_attempts.throttled marks attempts refused unexamined while an account or address waits;
login_attempts.cleared marks failures an organiser cleared. users.totp_secret becomes an encrypted
column (existing secrets are encrypted with the configured key ring), users.totp_pending keeps a secret
being set up on the server, and users.totp_last_step makes a code good once only.

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


def _rewrite_secrets(convert):
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.Text))
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))).all()
    if not rows:
        return
    from evalplat.files.encrypted_type import current_keyring

    keyring = current_keyring()  # CryptoError keyring_not_configured: run through `flask db upgrade`
    for ident, value in rows:
        bind.execute(users.update().where(users.c.id == ident).values(totp_secret=convert(keyring, value)))


def upgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('throttled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('cleared', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('totp_pending', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    _rewrite_secrets(lambda keyring, value: keyring.encrypt_text(value, aad=CONTEXT))


def downgrade():
    _rewrite_secrets(lambda keyring, value: keyring.decrypt_text(value, aad=CONTEXT))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_pending')
        batch_op.alter_column('totp_secret', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=True)
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_column('cleared')
        batch_op.drop_column('throttled')
