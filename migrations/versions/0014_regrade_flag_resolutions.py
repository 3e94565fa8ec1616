"""Regrade flags are resolved by an append-only resolution row; quiz previews are never stored.

``regrade_flag_resolution`` records an administrator's outcome and note for one flag (one per flag); the
flag keeps what the regrade found, now with the learner's grade before and after (``old_score`` …), and
loses ``resolved_at``, which nothing wrote. ``attempt.preview`` goes: a preview is computed and graded
without any Attempt row (lms/authoring/preview.py), so there is nothing for reports to leave out.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('regrade_flag_resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['regrade_flag.id'], name=op.f('fk_regrade_flag_resolution_flag_id_regrade_flag'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_regrade_flag_resolution_resolved_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regrade_flag_resolution')),
    sa.UniqueConstraint('flag_id', name=op.f('uq_regrade_flag_resolution_flag_id'))
    )
    # Nothing wrote resolved_at, but keep any value as a resolution rather than lose it.
    flags = sa.table('regrade_flag', sa.column('id', sa.Integer), sa.column('resolved_at', sa.DateTime))
    resolutions = sa.table(
        'regrade_flag_resolution',
        sa.column('flag_id', sa.Integer),
        sa.column('outcome', sa.String),
        sa.column('note', sa.Text),
        sa.column('resolved_at', sa.DateTime),
    )
    conn = op.get_bind()
    for flag_id, at in conn.execute(
        sa.select(flags.c.id, flags.c.resolved_at).where(flags.c.resolved_at.is_not(None))
    ).all():
        conn.execute(
            resolutions.insert().values(
                flag_id=flag_id, outcome='no_action', note='Resolved before resolutions were recorded.',
                resolved_at=at,
            )
        )
    with op.batch_alter_table('regrade_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('old_score', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('new_score', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('old_passed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('new_passed', sa.Boolean(), nullable=True))
        batch_op.drop_column('resolved_at')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('preview')


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.Boolean(), nullable=True))
    with op.batch_alter_table('regrade_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.drop_column('new_passed')
        batch_op.drop_column('old_passed')
        batch_op.drop_column('new_score')
        batch_op.drop_column('old_score')
    op.drop_table('regrade_flag_resolution')
