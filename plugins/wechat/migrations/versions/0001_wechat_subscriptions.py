"""wechat subscriptions

Revision ID: 0001_wechat
Revises: 
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0001_wechat'
down_revision = None
branch_labels = ('wechat',)
depends_on = '0001_core'


def upgrade() -> None:
    op.create_table('wechat_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('long_term', sa.Boolean(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_wechat_subscription_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_subscription')),
    sa.UniqueConstraint('user_id', 'template_id', name=op.f('uq_wechat_subscription_user_id_template_id'))
    )
    with op.batch_alter_table('wechat_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_subscription_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wechat_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_subscription_user_id'))
    op.drop_table('wechat_subscription')
