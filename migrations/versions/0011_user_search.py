"""Normalised search text for accounts.

``user_account.search_text`` holds the full name and the email through ``lms.textsearch.normalise_search``
(accents stripped, case folded, hyphens as spaces), kept in step by the model whenever an account is created
or renamed, so admin search is one LIKE that finds "Núñez" from "NUÑEZ" or "nunez" on SQLite and PostgreSQL
alike. Existing accounts are filled here with a frozen copy of the normalisation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:45:00

"""

import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    _backfill()


def _normalise(text):
    # Frozen copy of lms.textsearch.normalise_search as of this revision.
    decomposed = unicodedata.normalize('NFKD', text)
    folded = ''.join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r'\s+', ' ', re.sub(r'[-\u2010-\u2015\u2212_/]+', ' ', folded)).strip()


def _backfill():
    conn = op.get_bind()
    users = sa.table(
        'user_account',
        sa.column('id', sa.Integer),
        sa.column('full_name', sa.String),
        sa.column('email', sa.String),
        sa.column('search_text', sa.Text),
    )
    for user_id, full_name, email in conn.execute(
        sa.select(users.c.id, users.c.full_name, users.c.email)
    ).all():
        text = (_normalise(full_name or '') + ' ' + _normalise(email or '')).strip()
        conn.execute(users.update().where(users.c.id == user_id).values(search_text=text))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('search_text')
