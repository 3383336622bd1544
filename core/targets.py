"""Deep-link targets: what the phone opens for a card, an assignment or a notification.

A target is a small dict, ``{"kind": "<plugin>.<noun>", "station": "<code>", "<name>_id": n...}``:
the kind says which screen, the ids which record (the station's code when the record lives in a
station). The API documents it once (``api.fields.TargetSchema``). Kinds of the core:

- ``core.task`` (``task_id``): a task of the station;
- ``core.notifications``: the inbox;
- ``core.group`` (``group_id``): a group of the station;
- ``core.points``: the person's points in the station.

A notification's kind is the one its catalogue entry names (``core.messages.NotificationKind``).

Plugins name theirs after themselves (``crossing_guard.shift`` with ``shift_id`` and
``task_id``, ``patrol.patrol`` with ``patrol_id``...) and list them in their README.
"""

from __future__ import annotations

from typing import Any


def target(kind: str, station: str | None = None, **ids: int) -> dict[str, Any]:
    """A target of ``kind`` in ``station`` (a code) naming records by ``<name>_id``."""
    found: dict[str, Any] = {"kind": kind}
    if station is not None:
        found["station"] = station
    for name, value in ids.items():
        if not name.endswith("_id"):
            raise ValueError(f"a target names records by <name>_id, not {name}")
        found[name] = int(value)
    return found
