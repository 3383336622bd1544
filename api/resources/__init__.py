"""The core's HTTP resources, one module each."""

from api.resources.auth import blp as auth_blp
from api.resources.dashboard import blp as dashboard_blp
from api.resources.devices import blp as devices_blp
from api.resources.inbox import blp as inbox_blp
from api.resources.me import blp as me_blp
from api.resources.meta import blp as meta_blp
from api.resources.notices import blp as notices_blp
from api.resources.plugins import blp as station_plugins_blp
from api.resources.points import blp as points_blp
from api.resources.station_definition import blp as station_definition_blp
from api.resources.stations import blp as stations_blp
from api.resources.tasks import blp as tasks_blp
from api.resources.today import blp as today_blp

CORE_BLUEPRINTS = [meta_blp, auth_blp, me_blp, today_blp, stations_blp, station_plugins_blp,
                   dashboard_blp, tasks_blp, points_blp, notices_blp, inbox_blp, devices_blp,
                   station_definition_blp]
