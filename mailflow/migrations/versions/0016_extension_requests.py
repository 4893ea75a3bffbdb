"""extensions by e-mail: a unit head's request until management decides, and how the applicant was told

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import mailflow.models


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UNTOLD = "applicant_told_at IS NULL"
BEFORE = "не отслеживалось: продление записано до учёта уведомлений (миграция 0016)"


def upgrade() -> None:
    op.create_table('extension_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('decided_at', mailflow.models.AwareDateTime(timezone=True), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('extension_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_extension_request_document_id', 'extension_request', ['document_id'], unique=False)
    # plain ADD COLUMN (no batch rebuild), as 0013 does
    op.add_column('extension', sa.Column('applicant_told_at', mailflow.models.AwareDateTime(timezone=True), nullable=True))
    op.add_column('extension', sa.Column('applicant_told_how', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    op.add_column('extension', sa.Column('applicant_told_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    # Extensions recorded before this revision were never tracked: mark them so,
    # rather than chase the clerk now about letters that may well have gone.
    ext = sa.table(
        'extension',
        sa.column('created_at', mailflow.models.AwareDateTime(timezone=True)),
        sa.column('applicant_told_at', mailflow.models.AwareDateTime(timezone=True)),
        sa.column('applicant_told_how', sa.String()),
    )
    op.execute(
        ext.update()
        .where(ext.c.applicant_told_at.is_(None))
        .values(applicant_told_at=ext.c.created_at, applicant_told_how=BEFORE)
    )
    op.create_index(
        'ix_extension_untold',
        'extension',
        ['created_at'],
        unique=False,
        postgresql_where=sa.text(UNTOLD),
        sqlite_where=sa.text(UNTOLD),
    )


def downgrade() -> None:
    op.drop_index('ix_extension_untold', table_name='extension')
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.drop_column('applicant_told_by')
        batch_op.drop_column('applicant_told_how')
        batch_op.drop_column('applicant_told_at')
    op.drop_index('ix_extension_request_document_id', table_name='extension_request')
    op.drop_table('extension_request')
