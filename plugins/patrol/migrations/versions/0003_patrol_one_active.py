"""one active patrol per person

Revision ID: 0003_patrol
Revises: 0002_patrol
Create Date: 2026-11-30 12:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_patrol'
down_revision = '0002_patrol'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Concurrent starts may have left a person with several active patrols: the first stays
    # active, the later ones are closed as auto-finished (no summary, no points), or the
    # unique index below could not be built.
    patrol = sa.table('patrol_patrol', sa.column('id'), sa.column('station_id'),
                      sa.column('user_id'), sa.column('status'), sa.column('started_at'),
                      sa.column('finished_at'), sa.column('auto_finished'))
    earlier = patrol.alias('earlier')
    op.execute(
        patrol.update()
        .where(patrol.c.status == 'active', sa.exists().where(
            earlier.c.station_id == patrol.c.station_id, earlier.c.user_id == patrol.c.user_id,
            earlier.c.status == 'active', earlier.c.id < patrol.c.id))
        .values(status='finished', finished_at=patrol.c.started_at, auto_finished=True))
    with op.batch_alter_table('patrol_patrol', schema=None) as batch_op:
        batch_op.create_index('uq_patrol_patrol_active', ['station_id', 'user_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    with op.batch_alter_table('patrol_patrol', schema=None) as batch_op:
        batch_op.drop_index('uq_patrol_patrol_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
