"""The reports' enrolment funnel is stored with each statistics refresh; trigram indexes for learner search.

``report_refresh.funnel``:

Counting it on every view of the overview took minutes at 100,000 learners (bench/SCALE.md); the background
job now counts it with the other statistics and the page shows it "as of" that time. Existing rows get NULL
(read as "not computed yet"), filled by the next refresh.

On PostgreSQL, the pg_trgm extension and two trigram (GIN) indexes on accounts, ``search_text`` and
``licence_number``, so the learners' table's text filter reads the index instead of every account (about
120 ms per statement at 100,000 learners). SQLite has no such index: the same conditions scan there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _postgresql():
    # PostgreSQL only, as the models declare (Index.ddl_if): trigram indexes need the pg_trgm extension.
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    with op.batch_alter_table('report_refresh', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funnel', sa.JSON(), nullable=True))
    if _postgresql():
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index(
            'ix_user_account_search_trgm', 'user_account', [sa.text('lower(search_text) gin_trgm_ops')],
            postgresql_using='gin',
        )
        op.create_index(
            'ix_user_account_licence_trgm', 'user_account', [sa.text('lower(licence_number) gin_trgm_ops')],
            postgresql_using='gin',
        )


def downgrade():
    if _postgresql():
        op.drop_index('ix_user_account_licence_trgm', table_name='user_account')
        op.drop_index('ix_user_account_search_trgm', table_name='user_account')
    with op.batch_alter_table('report_refresh', schema=None) as batch_op:
        batch_op.drop_column('funnel')
