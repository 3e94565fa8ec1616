"""Certificates: completions per edition, claims, certificates and their append-only history; content hashes
that let unchanged lessons carry progress over to a new edition.

Existing lessons get the hash of their stored HTML, and existing progress records the hash of the item they
were earned on, so a learner keeps every lesson that a new edition leaves unchanged. Existing quiz items keep
an empty hash (carried over once, like a record from before hashes existed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:35:00

"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('progress_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('terminates_on', sa.Date(), nullable=True))

    conn = op.get_bind()
    items = sa.table('course_item', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('html', sa.Text), sa.column('content_hash', sa.String))
    for item_id, html in conn.execute(sa.select(items.c.id, items.c.html).where(items.c.kind == 'lesson')).all():
        digest = hashlib.sha256((html or '').encode()).hexdigest()
        conn.execute(items.update().where(items.c.id == item_id).values(content_hash=digest))
    conn.execute(sa.text(
        "UPDATE progress_record SET content_hash = COALESCE((SELECT ci.content_hash FROM course_item ci "
        "JOIN course_version cv ON cv.id = ci.version_id WHERE cv.course_id = progress_record.course_id "
        "AND cv.number = progress_record.version_no AND ci.key = progress_record.item_key), '')"
    ))

    op.create_table('site_setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_site_setting_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_setting'))
    )
    op.create_table('course_certificate_setting',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('auto_issue', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_certificate_setting_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', name=op.f('pk_course_certificate_setting'))
    )
    op.create_table('course_completion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=50), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.Column('final_score', sa.Double(), nullable=True),
    sa.Column('minutes_spent', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_completion_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_completion_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_completion')),
    sa.UniqueConstraint('user_id', 'course_id', 'version_no', 'edition', name=op.f('uq_course_completion_user_id_course_id_version_no_edition'))
    )
    with op.batch_alter_table('course_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_completion_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_completion_user_id'), ['user_id'], unique=False)

    op.create_table('certificate_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('completion_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('over_time', sa.Boolean(), nullable=False),
    sa.Column('printed_name', sa.String(length=200), nullable=False),
    sa.Column('attested_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['completion_id'], ['course_completion.id'], name=op.f('fk_certificate_claim_completion_id_course_completion')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_certificate_claim_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certificate_claim_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_claim'))
    )
    with op.batch_alter_table('certificate_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_claim_completion_id'), ['completion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_claim_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_claim_user_id'), ['user_id'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=16), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('credit_type', sa.String(length=120), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['certificate_claim.id'], name=op.f('fk_certificate_claim_id_certificate_claim')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_certificate_course_id_course')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_certificate_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['certificate.id'], name=op.f('fk_certificate_supersedes_id_certificate')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certificate_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_certificate_credential_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificate_serial')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_certificate_supersedes_id'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_certificate_original', ['user_id', 'course_id', 'version_no'], unique=True,
                              sqlite_where=sa.text('supersedes_id IS NULL AND NOT imported'),
                              postgresql_where=sa.text('supersedes_id IS NULL AND NOT imported'))

    op.create_table('claim_decline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_claim_decline_actor_id_user_account')),
    sa.ForeignKeyConstraint(['claim_id'], ['certificate_claim.id'], name=op.f('fk_claim_decline_claim_id_certificate_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_decline')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_claim_decline_claim_id'))
    )
    op.create_table('certificate_revocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_certificate_revocation_actor_id_user_account')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_certificate_revocation_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_revocation')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_certificate_revocation_certificate_id'))
    )
    op.create_table('signed_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=100), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_signed_credential_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_credential')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_signed_credential_certificate_id'))
    )
    op.create_table('reissue_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('requested_name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_reissue_request_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reissue_request'))
    )
    with op.batch_alter_table('reissue_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reissue_request_certificate_id'), ['certificate_id'], unique=False)
    op.create_table('expiry_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_expiry_reminder_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expiry_reminder')),
    sa.UniqueConstraint('certificate_id', 'days', name=op.f('uq_expiry_reminder_certificate_id_days'))
    )
    with op.batch_alter_table('expiry_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expiry_reminder_certificate_id'), ['certificate_id'], unique=False)


def downgrade():
    for table in ('expiry_reminder', 'reissue_request', 'signed_credential', 'certificate_revocation',
                  'claim_decline', 'certificate', 'certificate_claim', 'course_completion',
                  'course_certificate_setting', 'site_setting'):
        op.drop_table(table)
    with op.batch_alter_table('progress_record', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
    with op.batch_alter_table('course_item', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('terminates_on')
        batch_op.drop_column('release_on')
