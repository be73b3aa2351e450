"""messages.event_key: lines taken from Rasa's event broker, stored once

Revision ID: h0003
Revises: h0002
Create Date: 2026-11-23 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'h0003'
down_revision = 'h0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_messages_event_key'), ['event_key'])


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_messages_event_key'), type_='unique')
        batch_op.drop_column('event_key')
