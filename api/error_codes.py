"""The error codes an operation may answer, read from the code it runs, for the document.

A view's codes are the string codes of the domain errors raised in it and in the functions it
calls within Wardens (core, api, plugins; a few calls deep), plus the actor's checks. It is a
reading of the source, so a code raised through a hook or a computed code is not listed: the
full catalogue with texts is in docs/clients.md.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from typing import Any

from core.access import Actor

STATUS_OF = {"Invalid": 422, "NotFound": 404, "PermissionDenied": 403, "Conflict": 409,
             "Unauthenticated": 401, "TooManyRequests": 429, "Unavailable": 503}
OWN_PACKAGES = ("core", "api", "plugins")
DEPTH = 5


def error_codes(view: Any) -> dict[int, set[str]]:
    """{status: codes} for a view function (an over-reading: branches are not told apart)."""
    found: dict[int, set[str]] = {}
    _collect(inspect.unwrap(view), 0, set(), found)
    return found


def _collect(func: Any, depth: int, seen: set[Any], found: dict[int, set[str]]) -> None:
    if (not isinstance(func, types.FunctionType) or func in seen or depth > DEPTH
            or func.__module__.split(".")[0] not in OWN_PACKAGES):
        return
    seen.add(func)
    for status, code in _raised(func):
        found.setdefault(status, set()).add(code)
    for callee in _callees(func):
        _collect(callee, depth + 1, seen, found)


@functools.cache
def _tree(func: types.FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None


def _calls(func: types.FunctionType) -> list[ast.Call]:
    tree = _tree(func)
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)] if tree else []


def _raised(func: types.FunctionType) -> list[tuple[int, str]]:
    out = []
    for call in _calls(func):
        name = _name(call.func)
        if (name in STATUS_OF and call.args and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)):
            out.append((STATUS_OF[name], call.args[0].value))
    return out


def _callees(func: types.FunctionType) -> list[Any]:
    scope = func.__globals__
    out = []
    for call in _calls(func):
        target = None
        if isinstance(call.func, ast.Name):
            target = scope.get(call.func.id)
        elif isinstance(call.func, ast.Attribute):
            base = scope.get(call.func.value.id) if isinstance(call.func.value, ast.Name) else None
            if isinstance(base, types.ModuleType):
                target = getattr(base, call.func.attr, None)
            elif isinstance(base, type):  # Period.parse(...): a class's own (class) method
                target = getattr(base, call.func.attr, None)
                target = getattr(target, "__func__", target)
            elif base is None:  # who.require(...), actor(station).require_member()
                target = getattr(Actor, call.func.attr, None)
        if isinstance(target, type) and target.__module__.split(".")[0] in OWN_PACKAGES:
            target = getattr(target, "__init__", None)
        if isinstance(target, property):
            target = target.fget
        out.append(target)
    return out


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
