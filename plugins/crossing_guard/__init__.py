"""School-crossing guards: recurring shifts at school gates, filled, checked and covered."""

from __future__ import annotations

from core.hookspecs import PluginInfo, TaskKind
from core.plugins import hookimpl

NAME = "crossing_guard"
TASK_KIND = "crossing_shift"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.crossing_guard import models  # noqa: F401  (tables known to the metadata)

    return PluginInfo(name=NAME, version="1", task_kinds=(TaskKind(TASK_KIND),),
                      points_rules={"crossing_guard.shift_completed": 5})
