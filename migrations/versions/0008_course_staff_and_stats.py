"""Course staff (owners and co-authors), preview attempts, and the reports' statistics tables.

``course_staff`` says who may open a course's authoring and report pages (admins need no row). Attempts get
a nullable ``preview`` flag: authors trying their own quiz are never counted in reports; existing attempts
stay NULL, which reports read as "not a preview". ``quiz_statistic`` and ``item_statistic`` hold sufficient
statistics (counts and sums), ``learner_statistic`` each learner's standing and ``report_refresh`` the "as of"
time; a background job recomputes them all, and they start empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_staff_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_staff_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_staff')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_staff_course_id_user_id'))
    )
    with op.batch_alter_table('course_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_staff_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_staff_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.Boolean(), nullable=True))

    op.create_table('quiz_statistic',
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sum_points', sa.Double(), nullable=False),
    sa.Column('sum_points_sq', sa.Double(), nullable=False),
    sa.Column('sum_score', sa.Double(), nullable=False),
    sa.Column('first_passed', sa.Integer(), nullable=False),
    sa.Column('ever_passed', sa.Integer(), nullable=False),
    sa.Column('all_attempts', sa.Integer(), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('draw', sa.Integer(), nullable=False),
    sa.Column('histogram', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_quiz_statistic_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_quiz_statistic_quiz_id_quiz'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('quiz_id', name=op.f('pk_quiz_statistic'))
    )
    with op.batch_alter_table('quiz_statistic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_statistic_course_id'), ['course_id'], unique=False)

    op.create_table('item_statistic',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('sum_x', sa.Double(), nullable=False),
    sa.Column('sum_x2', sa.Double(), nullable=False),
    sa.Column('sum_r', sa.Double(), nullable=False),
    sa.Column('sum_r2', sa.Double(), nullable=False),
    sa.Column('sum_xr', sa.Double(), nullable=False),
    sa.Column('option_counts', sa.JSON(), nullable=False),
    sa.Column('blank', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_item_statistic_question_id_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_item_statistic_quiz_id_quiz'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_item_statistic'))
    )
    with op.batch_alter_table('item_statistic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_statistic_quiz_id'), ['quiz_id'], unique=False)

    op.create_table('report_refresh',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_report_refresh_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', name=op.f('pk_report_refresh'))
    )
    op.create_table('learner_statistic',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('best_final', sa.Double(), nullable=True),
    sa.Column('status_rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_learner_statistic_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_learner_statistic_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'user_id', name=op.f('pk_learner_statistic'))
    )
    with op.batch_alter_table('learner_statistic', schema=None) as batch_op:
        batch_op.create_index('ix_learner_statistic_course_rank', ['course_id', 'status_rank'], unique=False)


def downgrade():
    with op.batch_alter_table('learner_statistic', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_statistic_course_rank')
    op.drop_table('learner_statistic')
    op.drop_table('report_refresh')
    with op.batch_alter_table('item_statistic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_statistic_quiz_id'))
    op.drop_table('item_statistic')
    with op.batch_alter_table('quiz_statistic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_statistic_course_id'))
    op.drop_table('quiz_statistic')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('preview')
    with op.batch_alter_table('course_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_staff_course_id'))
    op.drop_table('course_staff')
