"""A test plugin whose hook implementations declare only some of each hook's parameters."""

from __future__ import annotations

from typing import Any

from core.hookspecs import PluginInfo
from core.plugins import hookimpl

#: what the hooks were told, in order (the tests read and clear it)
HEARD: list[tuple[str, Any]] = []


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    return PluginInfo(name="subset", version="1.0.0", description="Hooks with fewer parameters")


@hookimpl
def wardens_dashboard_metrics(station: Any) -> dict[str, Any]:
    return {"station_id": station.id}


@hookimpl
def wardens_assignment_changed(assignment: Any, previous: str | None) -> None:
    HEARD.append(("assignment_changed", f"{previous}->{assignment.status}"))


@hookimpl
def wardens_task_completed(task: Any) -> None:
    HEARD.append(("task_completed", task.id))


@hookimpl
def wardens_membership_created(membership: Any) -> None:
    HEARD.append(("membership_created", membership.user_id))


@hookimpl
def wardens_plugin_switched(plugin: str, enabled: bool) -> None:
    HEARD.append(("plugin_switched", f"{plugin}:{enabled}"))


@hookimpl
def wardens_membership_removed(user: Any) -> None:
    HEARD.append(("membership_removed", user.id))


@hookimpl
def wardens_export_user(user: Any) -> dict[str, Any]:
    return {"user_id": user.id}


@hookimpl
def wardens_user_erased(user: Any) -> None:
    HEARD.append(("user_erased", user.id))
