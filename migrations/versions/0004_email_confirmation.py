"""Email confirmation: accounts record when their address was confirmed.

Existing accounts were created before confirmation existed; they are treated as confirmed at creation, so
nobody who could sign in yesterday is locked out today.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE user_account SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
