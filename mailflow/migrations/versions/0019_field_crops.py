"""where on the scan each field left unread (handwriting) is written: the card shows that piece

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, as 0014: a SQLite batch rebuild of `document` would drop the search triggers of 0011
    op.add_column('document', sa.Column('crops', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='{}'))


def downgrade() -> None:
    op.drop_column('document', 'crops')
