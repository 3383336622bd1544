"""notification targets; notification codes renamed to <owner>.<event>

Revision ID: 0006_core_notification_targets
Revises: 0005_core_phone_codes
Create Date: 2026-12-01 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0006_core_notification_targets'
down_revision = '0005_core_phone_codes'
branch_labels = None
depends_on = None

# Codes sent before the one scheme (core.<event>, <plugin>.<event>); the inbox keeps them.
RENAMED = {
    'task_assigned': 'core.task_assigned',
    'task_cancelled': 'core.task_cancelled',
    'waitlist_promoted': 'core.waitlist_promoted',
    'points_adjusted': 'core.points_adjusted',
    'duty_group_created': 'core.duty_group_created',
    'duty_group_kind_changed': 'core.duty_group_kind_changed',
    'duty_group_deleted': 'core.duty_group_deleted',
    'duty_group_member_added': 'core.duty_group_member_added',
    'duty_group_member_removed': 'core.duty_group_member_removed',
    'duty_group_leader_changed': 'core.duty_group_leader_changed',
    'anti_fraud_coupon_granted': 'anti_fraud.coupon_granted',
    'anti_fraud_coupon_redeemed': 'anti_fraud.coupon_redeemed',
}


def _rename(pairs) -> None:
    notification = sa.table('notification', sa.column('code', sa.String))
    for old, new in pairs:
        op.execute(notification.update().where(notification.c.code == old).values(code=new))


def upgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', core.db.JSONType(), nullable=True))
    _rename(RENAMED.items())


def downgrade() -> None:
    _rename((new, old) for old, new in RENAMED.items())
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('target')
