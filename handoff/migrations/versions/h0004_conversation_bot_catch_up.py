"""conversations.bot_catch_up: a hand-back to the bot that Rasa missed, retried later

Revision ID: h0004
Revises: h0003
Create Date: 2026-11-25 01:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'h0004'
down_revision = 'h0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_catch_up', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('bot_catch_up')
