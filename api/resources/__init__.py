"""The core's HTTP resources, one module each."""

from api.resources.auth import blp as auth_blp
from api.resources.devices import blp as devices_blp
from api.resources.me import blp as me_blp
from api.resources.stations import blp as stations_blp

CORE_BLUEPRINTS = [auth_blp, me_blp, stations_blp, devices_blp]
