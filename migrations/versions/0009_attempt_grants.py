"""Extra attempts granted by an admin (audited), and normalised search text for courses and lessons.

``attempt_grant`` records each extra attempt an admin grants on a quiz of one edition, with the reason.
``course.search_text`` and ``course_item.search_text`` hold text normalised by ``lms.textsearch`` (accents
stripped, case folded, hyphens as spaces), filled at sync, so one LIKE finds lesson text on SQLite and
PostgreSQL alike. Existing rows are filled here (title, summary and specialties for a course; title and text
for a lesson), with a frozen copy of the normalisation, so search keeps working before the next sync.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00

"""
import html as html_lib
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
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
    _backfill()


def _normalise(text):
    # Frozen copy of lms.textsearch.normalise_search as of this revision.
    decomposed = unicodedata.normalize('NFKD', text)
    folded = ''.join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r'\s+', ' ', re.sub(r'[-\u2010-\u2015\u2212_/]+', ' ', folded)).strip()


def _backfill():
    conn = op.get_bind()
    courses = sa.table('course', sa.column('id', sa.Integer), sa.column('title', sa.String),
                       sa.column('summary', sa.Text), sa.column('specialties', sa.Text),
                       sa.column('search_text', sa.Text))
    for course_id, title, summary, specialties in conn.execute(
        sa.select(courses.c.id, courses.c.title, courses.c.summary, courses.c.specialties)
    ).all():
        text = ' '.join([title or '', summary or '', (specialties or '').replace('|', ' ')])
        conn.execute(courses.update().where(courses.c.id == course_id).values(search_text=_normalise(text)))
    items = sa.table('course_item', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('title', sa.String), sa.column('html', sa.Text), sa.column('search_text', sa.Text))
    rows = conn.execute(sa.select(items.c.id, items.c.title, items.c.html).where(items.c.kind == 'lesson')).all()
    for item_id, title, body in rows:
        text = (title or '') + ' ' + html_lib.unescape(re.sub(r'<[^>]+>', ' ', body or ''))
        conn.execute(items.update().where(items.c.id == item_id).values(search_text=_normalise(text)))


def downgrade():
    with op.batch_alter_table('course_item', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('attempt_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_grant_quiz_id'))
        batch_op.drop_index(batch_op.f('ix_attempt_grant_user_id'))
    op.drop_table('attempt_grant')
