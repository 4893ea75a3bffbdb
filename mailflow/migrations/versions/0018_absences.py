"""absences set by e-mail («ЗАМЕЩАЕТ …»): who stands in for whom, until when (1.6)

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import mailflow.models


revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('substitute', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('set_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_absence_person', 'absence', ['person'], unique=False)
    op.create_index('ix_absence_until', 'absence', ['until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_absence_until', table_name='absence')
    op.drop_index('ix_absence_person', table_name='absence')
    op.drop_table('absence')
