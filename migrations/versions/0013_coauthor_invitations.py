"""Co-author invitations by email: a pending invitation (hashed token, expiry) for an address with no
account yet; accepted when that address registers or follows the link signed in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "coauthor_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_coauthor_invitation_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_coauthor_invitation_invited_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["user_account.id"],
            name=op.f("fk_coauthor_invitation_accepted_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coauthor_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_coauthor_invitation_token_hash")),
    )
    with op.batch_alter_table("coauthor_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coauthor_invitation_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coauthor_invitation_email"), ["email"], unique=False)


def downgrade():
    with op.batch_alter_table("coauthor_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coauthor_invitation_email"))
        batch_op.drop_index(batch_op.f("ix_coauthor_invitation_course_id"))
    op.drop_table("coauthor_invitation")
