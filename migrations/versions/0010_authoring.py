"""Authoring: one draft per course (the package files) and a record of each publication.

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


def downgrade():
    with op.batch_alter_table("course_publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_publication_course_id"))
    op.drop_table("course_publication")
    op.drop_table("course_draft")
