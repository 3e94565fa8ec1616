"""Authoring: one draft per course (the package files), a record of each publication, regrade flags, and
per-learner time extensions on timed quizzes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:40:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("base_version_no", sa.Integer(), nullable=False),
        sa.Column("files_json", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_draft_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_course_draft_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_draft")),
        sa.UniqueConstraint("course_id", name=op.f("uq_course_draft_course_id")),
    )
    op.create_table(
        "course_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("files_json", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_publication_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["user_account.id"],
            name=op.f("fk_course_publication_published_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_publication")),
    )
    with op.batch_alter_table("course_publication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_publication_course_id"), ["course_id"], unique=False)
    op.create_table('regrade_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('quiz_key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('completion_id', sa.Integer(), nullable=True),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_regrade_flag_certificate_id_certificate'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['completion_id'], ['course_completion.id'], name=op.f('fk_regrade_flag_completion_id_course_completion'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_regrade_flag_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_regrade_flag_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_regrade_flag_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regrade_flag'))
    )
    with op.batch_alter_table('regrade_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regrade_flag_course_id'), ['course_id'], unique=False)
    op.create_table('time_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('quiz_key', sa.String(length=80), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_time_extension_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_time_extension_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_time_extension_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_extension'))
    )
    with op.batch_alter_table('time_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_extension_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('time_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_extension_user_id'))
    op.drop_table('time_extension')
    with op.batch_alter_table('regrade_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regrade_flag_course_id'))
    op.drop_table('regrade_flag')
    with op.batch_alter_table("course_publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_publication_course_id"))
    op.drop_table("course_publication")
    op.drop_table("course_draft")
