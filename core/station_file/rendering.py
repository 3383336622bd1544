"""A plan as people read it: one line per change, fields before -> after, harms marked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click

from core.station_file.plan import HARMS, Plan
from core.station_file.section import ARCHIVE, CREATE

MARKS = {CREATE: ("+", "green"), ARCHIVE: ("-", "red")}
WORDS = {CREATE: "create", ARCHIVE: "archive"}


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def summary_line(plan: Plan, *, applied: bool = False) -> str:
    s = plan.summary
    if plan.empty:
        return f"station {plan.station}: no changes"
    verb = "applied" if applied else "plan"
    new = " (new station)" if plan.creates_station else ""
    return (f"station {plan.station}{new} {verb}: {s['created']} created, {s['changed']} changed,"
            f" {s['archived']} archived")


def lines(plan: Plan) -> Iterator[str]:
    """The plan as text; click strips the colours when the output is not a terminal."""
    for change in plan.changes:
        mark, colour = MARKS.get(change.action, ("~", "yellow"))
        word = WORDS.get(change.action, "update")
        head = f"{mark} {change.path}  ({change.kind}: {word})"
        yield click.style(head, fg=colour, bold=True)
        for name, (before, after) in change.fields.items():
            if change.action == CREATE:
                yield f"      {name} = {_value(after)}"
            else:
                yield f"      {name}: {_value(before)} -> {_value(after)}"
        if change.note:
            yield f"      # {change.note}"
        if change.harm:
            yield click.style(f"      ! {change.harm}: {HARMS.get(change.harm, '')}"
                              f" (refused unless --allow {change.harm})", fg="red")
    yield summary_line(plan)
