"""the weekly report's review and sign-off (2.13) and the decisions on suggestions (2.14)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import mailflow.models


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('weekly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('week', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('made_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('review_due_at', mailflow.models.AwareDateTime(timezone=True), nullable=True),
    sa.Column('review', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('reviewed_at', mailflow.models.AwareDateTime(timezone=True), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('file_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('sent_at', mailflow.models.AwareDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('signed_at', mailflow.models.AwareDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('journal', 'week', name='uq_weekly_report_week')
    )
    op.create_table('suggestion_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_suggestion_decision_document_id', 'suggestion_decision', ['document_id'], unique=False)
    # a token answers a case or, now, a weekly report
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.alter_column('document_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index('ix_token_report_id', ['report_id'], unique=False)


def downgrade() -> None:
    # a report's tokens answer no case: they go with the reports
    op.execute(sa.text("DELETE FROM token WHERE document_id IS NULL"))
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_index('ix_token_report_id')
        batch_op.alter_column('document_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('report_id')
    op.drop_index('ix_suggestion_decision_document_id', table_name='suggestion_decision')
    op.drop_table('suggestion_decision')
    op.drop_table('weekly_report')
