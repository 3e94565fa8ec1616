"""An index on lower(full_name) of accounts: the report's learners table sorts by it (issue 13, scale data).

With 100,000 learners the default page of a course's learners table joined and sorted every enrolled learner
(about 500 ms on the 2-core machine); with the index PostgreSQL reads learners in name order and stops at the
page (under 100 ms). Measured with bench/scale_bench.py on the loadtest profile (bench/SCALE.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:25:00

"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _postgresql():
    # PostgreSQL only, as the model declares (Index.ddl_if): SQLite cannot reflect an expression index.
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if _postgresql():
        op.create_index('ix_user_account_lower_full_name', 'user_account', [sa.text('lower(full_name)')])


def downgrade():
    if _postgresql():
        op.drop_index('ix_user_account_lower_full_name', table_name='user_account')
