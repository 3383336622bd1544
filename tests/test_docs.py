"""The plugin author's guide documents every hook, with its parameters and its contract."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HOOKS = sorted(name for name, obj in vars(hookspecs).items()
               if name.startswith("wardens_") and inspect.isfunction(obj))


def sections() -> dict[str, str]:
    """Hook reference sections of the guide: heading ``### wardens_x(...)`` -> its text."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    return {part.split("(", 1)[0]: part for part in parts if part.startswith("wardens_")}


def test_there_are_hooks_to_document():
    assert len(HOOKS) >= 13


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_documented_with_its_signature_and_contract(hook):
    documented = sections()
    assert hook in documented, f"docs/plugins.md has no '### {hook}(...)' section"
    section = documented[hook]
    spec = getattr(hookspecs, hook)
    parameters = list(inspect.signature(spec).parameters)
    heading = section.splitlines()[0]
    assert heading.startswith(f"{hook}({', '.join(parameters)})"), heading
    assert len(section.split("\n", 1)[1].strip()) > 80, f"{hook}: say what it is for"
    if spec.wardens_spec["firstresult"]:
        assert "firstresult" in section and "trylast" in section, hook
    assert hookspecs.__dict__[hook].__doc__, f"{hook} has no docstring"


def test_the_guide_documents_no_hook_that_does_not_exist():
    assert sorted(sections()) == HOOKS
