"""repeated appeals: the applicant's folded name, and the first case a repeat is linked to

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from mailflow.case.search import applicant_key


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, not batch mode: a SQLite batch rebuild of `document`
    # would drop the search triggers of 0011
    op.add_column('document', sa.Column('applicant', sa.String(length=420), nullable=True))
    op.add_column('document', sa.Column('repeat_of', sa.Integer(), nullable=True))
    op.create_index('ix_document_applicant', 'document', ['applicant'], unique=False)
    op.create_index('ix_document_repeat_of', 'document', ['repeat_of'], unique=False)
    conn = op.get_bind()
    doc = sa.table('document', sa.column('id'), sa.column('last_name'), sa.column('first_name'), sa.column('applicant'))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(doc.c.id, doc.c.last_name, doc.c.first_name)
            .where(doc.c.id > last, doc.c.last_name.is_not(None))
            .order_by(doc.c.id)
            .limit(5000)
        ).all()
        if not rows:
            break
        keyed = [{'i': r.id, 'a': applicant_key(r.last_name, r.first_name)} for r in rows]
        keyed = [k for k in keyed if k['a']]
        if keyed:
            conn.execute(
                doc.update().where(doc.c.id == sa.bindparam('i')).values(applicant=sa.bindparam('a')), keyed
            )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index('ix_document_repeat_of', table_name='document')
    op.drop_index('ix_document_applicant', table_name='document')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('repeat_of')
        batch_op.drop_column('applicant')
