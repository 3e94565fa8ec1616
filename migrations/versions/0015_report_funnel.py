"""The reports' enrolment funnel is stored with each statistics refresh (``report_refresh.funnel``).

Counting it on every view of the overview took minutes at 100,000 learners (bench/SCALE.md); the background
job now counts it with the other statistics and the page shows it "as of" that time. Existing rows get NULL
(read as "not computed yet"), filled by the next refresh.

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


def upgrade():
    with op.batch_alter_table('report_refresh', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funnel', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('report_refresh', schema=None) as batch_op:
        batch_op.drop_column('funnel')
