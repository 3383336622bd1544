"""station plugins version, changed by a trigger with every switch

Revision ID: 0008_core_plugins_version
Revises: 0007_core_notices
Create Date: 2026-12-01 02:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_core_plugins_version'
down_revision = '0007_core_notices'
branch_labels = None
depends_on = None

# Every path that writes a switch (the API, a station file, a restore, a bulk insert) changes
# the station's plugins_version in the same transaction, so a server process that cached the
# switches sees at its next request that they changed. Random, so a value rolled back or
# restored never comes back meaning other switches.
POSTGRES = [
    """CREATE FUNCTION station_plugins_changed() RETURNS trigger AS $$
    BEGIN
        UPDATE station SET plugins_version = (random() * 4.6e18)::bigint
        WHERE id IN (NEW.station_id, OLD.station_id);
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER station_plugin_changed AFTER INSERT OR UPDATE OR DELETE ON station_plugin
    FOR EACH ROW EXECUTE FUNCTION station_plugins_changed()""",
]
SQLITE = [
    f"""CREATE TRIGGER station_plugin_{event.lower()} AFTER {event} ON station_plugin BEGIN
    UPDATE station SET plugins_version = random() WHERE id IN ({rows});
    END""" for event, rows in (("INSERT", "NEW.station_id"),
                               ("UPDATE", "NEW.station_id, OLD.station_id"),
                               ("DELETE", "OLD.station_id"))
]


def upgrade() -> None:
    op.add_column('station', sa.Column('plugins_version', sa.BigInteger(), server_default='0',
                                       nullable=False))
    for statement in POSTGRES if op.get_bind().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER station_plugin_changed ON station_plugin")
        op.execute("DROP FUNCTION station_plugins_changed()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER station_plugin_{event}")
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.drop_column('plugins_version')
