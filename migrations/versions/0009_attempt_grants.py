"""Extra attempts granted by an admin (audited), and normalised search text for courses and lessons.

``attempt_grant`` records each extra attempt an admin grants on a quiz of one edition, with the reason.
``course.search_text`` and ``course_item.search_text`` hold text normalised by ``lms.textsearch`` (accents
stripped, case folded, hyphens as spaces), filled at sync, so one LIKE finds lesson text on SQLite and
PostgreSQL alike. Existing rows start empty and are filled when their course is next synced.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attempt_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('quiz_key', sa.String(length=80), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_attempt_grant_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_attempt_grant_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_attempt_grant_quiz_id_quiz'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_attempt_grant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_grant'))
    )
    with op.batch_alter_table('attempt_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempt_grant_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempt_grant_quiz_id'), ['quiz_id'], unique=False)
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('course_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('course_item', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('attempt_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_grant_quiz_id'))
        batch_op.drop_index(batch_op.f('ix_attempt_grant_user_id'))
    op.drop_table('attempt_grant')
