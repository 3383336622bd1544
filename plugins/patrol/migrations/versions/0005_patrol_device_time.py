"""device-time bounds move to the station's task settings

Revision ID: 0005_patrol
Revises: 0004_patrol
Create Date: 2026-11-30 13:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005_patrol'
down_revision = '0004_patrol'
branch_labels = None
depends_on = None

# One core rule now bounds every device time (core.clock.check_device_time, the station's
# max_offline_minutes and device_clock_ahead_seconds): the patrol's own knobs go, or a
# station that had overridden them could no longer load its patrol settings.
GONE = ('max_device_time_ahead_seconds', 'late_upload_hours')


def upgrade() -> None:
    plugins = sa.table('station_plugin', sa.column('id'), sa.column('name'),
                       sa.column('settings', core.db.JSONType()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(plugins.c.id, plugins.c.settings)
                        .where(plugins.c.name == 'patrol')).all()
    for row_id, settings in rows:
        if settings and any(key in settings for key in GONE):
            kept = {k: v for k, v in settings.items() if k not in GONE}
            bind.execute(plugins.update().where(plugins.c.id == row_id).values(settings=kept))


def downgrade() -> None:
    pass  # the overrides are not restored: the defaults apply
