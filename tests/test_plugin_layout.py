"""Every built-in plugin keeps the one layout of docs/plugins.md ("The package"): hook
implementations alone in ``__init__.py``, importable without Flask; each role in its fixed-role
file; state changes in noun modules, never a ``service.py``; a README; one version scheme (for
the example plugins in tests/ too; the sample plugin keeps the whole layout, as authors copy
it). A new plugin, or a plugin that drifts, fails here."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from core.hookspecs import PluginInfo
from core.plugins import builtin_plugin_names

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = builtin_plugin_names()
#: the built-ins and the example plugin authors copy (docs/plugins.md), by package
PACKAGES = [f"plugins.{name}" for name in BUILTIN] + ["tests.sample_plugin"]
VERSION = re.compile(r"\d+\.\d+\.\d+")  # MAJOR.MINOR.PATCH
#: hook -> the fixed-role file that holds the role of a plugin implementing it
ROLE_FILES = {
    "wardens_register_blueprints": "api.py",
    "wardens_scheduled_jobs": "jobs.py",
    "wardens_dashboard_metrics": "metrics.py",
    "wardens_export_user": "privacy.py",
    "wardens_user_erased": "privacy.py",
    "wardens_seed_demo": "demo.py",
    "wardens_console_pages": "console.py",
    "wardens_console_panels": "console.py",
    "wardens_today_cards": "today.py",
    "wardens_task_targets": "today.py",
    "wardens_reports": "reports.py",
}
#: names that say nothing of what a module changes: state changes go in noun modules instead
GRAB_BAGS = {"service.py", "services.py", "utils.py", "helpers.py", "common.py", "manager.py"}


def _package(package: str) -> ModuleType:
    return importlib.import_module(package)


def _folder(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def _info(package: str) -> PluginInfo:
    return _package(package).wardens_describe_plugin()


def test_every_builtin_plugin_is_checked():
    assert set(BUILTIN) >= {"anti_fraud", "care_visits", "crossing_guard", "firebase", "patrol"}


@pytest.mark.parametrize("package", PACKAGES)
def test_loading_a_plugin_loads_no_flask(package):
    # A fresh interpreter: this test session loaded Flask long ago.
    probe = f"import sys, {package}; print('flask' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert answer.stdout.strip() == "False", f"importing {package} imports Flask"


@pytest.mark.parametrize("package", PACKAGES)
def test_init_holds_hook_implementations_only(package):
    module = _package(package)
    own = [obj for obj in vars(module).values()
           if (inspect.isfunction(obj) or inspect.isclass(obj))
           and obj.__module__ == module.__name__]
    assert own, f"{package}/__init__.py implements no hook"
    others = [obj.__name__ for obj in own if not hasattr(obj, "wardens_impl")]
    assert not others, f"{package}/__init__.py: {others} belong in a module of their own"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_role_lives_in_its_fixed_file(package):
    folder = _folder(package)
    module = _package(package)
    info = _info(package)
    wanted = {"README.md"}
    wanted |= {filename for hook, filename in ROLE_FILES.items()
               if hasattr(getattr(module, hook, None), "wardens_impl")}
    if info.settings_schema is not None:
        wanted.add("settings.py")
        assert info.settings_schema.__module__ == f"{package}.settings", package
    if info.messages:
        wanted.add("messages.py")
    if (folder / "api.py").is_file():
        wanted.add("schemas.py")
    if (folder / "models.py").is_file():
        wanted.add("migrations/versions")
    missing = sorted(f for f in wanted if not (folder / f).exists())
    assert not missing, f"{package} lacks {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_state_changes_live_in_noun_modules(package):
    found = sorted(f.name for f in _folder(package).glob("*.py") if f.name in GRAB_BAGS)
    assert not found, (f"{package} has {found}: split it into modules named for the "
                       "things they change (patrols.py, scans.py, ...)")


#: besides the built-ins: the core's own description, and the plugins in tests/ that authors copy
DESCRIBED = [f"plugins.{name}" for name in BUILTIN] + [
    "core.defaults", "tests.sample_plugin", "tests.subset_plugin"]


@pytest.mark.parametrize("module", DESCRIBED)
def test_every_plugin_has_a_version_in_one_scheme(module):
    version = importlib.import_module(module).wardens_describe_plugin().version
    assert VERSION.fullmatch(version), f"{module}: version {version!r} is not MAJOR.MINOR.PATCH"
