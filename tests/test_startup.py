"""Start-up refuses a wrong deployment with a message naming what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from api import create_app
from core.db import Base, Database
from core.plugins import Deployment, DeploymentConfig, StartupError
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.plugins import write_distribution

ROOT = Path(__file__).resolve().parent.parent

PLUGIN = '''
from core.hookspecs import PluginInfo
from core.plugins import hookimpl


@hookimpl
def wardens_describe_plugin():
    return PluginInfo(name="{name}", version="0.1.0")
'''


def start(toml: str) -> Deployment:
    """Build a deployment as `create_app` and the CLI do (no database access happens)."""
    return Deployment(Database("sqlite://"), DeploymentConfig.from_dict(tomllib.loads(toml)))


def offer(site: Path, name: str, source: str = PLUGIN, module: str | None = None,
          files: dict[str, str] | None = None) -> str:
    """Install a distribution offering plugin ``name``; returns its module name."""
    module = module or f"wardens_{name}_plugin"
    modules = {f"{module}/__init__.py": source.replace("{name}", name)}
    modules.update({f"{module}/{k}": v for k, v in (files or {}).items()})
    write_distribution(site, f"dist_{module}", {name: module}, modules)
    return module


@pytest.fixture
def restore_metadata():
    """A plugin with a bad table adds it to the shared metadata: take it out again."""
    before = set(Base.metadata.tables)
    yield
    for name in set(Base.metadata.tables) - before:
        Base.metadata.remove(Base.metadata.tables[name])


def test_an_unknown_plugin_stops_start_up_naming_it(site):
    with pytest.raises(StartupError, match=r"unknown plugin 'ghost'.*wardens.plugins"):
        start('[plugins]\ninstalled = ["ghost"]')


def test_an_invalid_setting_stops_start_up_naming_the_key(sample_site):
    with pytest.raises(StartupError) as refused:
        start('[plugins]\ninstalled = ["sample"]\n[plugins.sample]\nmax_note_length = 0\n')
    assert "[plugins.sample]" in str(refused.value)
    assert "max_note_length: Must be greater than or equal to 1" in str(refused.value)
    with pytest.raises(StartupError, match=r"\[plugins.sample\].*colour: Unknown field"):
        start('[plugins]\ninstalled = ["sample"]\n[plugins.sample]\ncolour = "red"\n')


def test_a_plugin_table_without_the_prefix_stops_start_up_naming_it(site, restore_metadata):
    models = '''
    import sqlalchemy as sa
    from sqlalchemy import orm as so
    from core.db import Base


    class Thing(Base):
        __tablename__ = "thing"
        id: so.Mapped[int] = so.mapped_column(primary_key=True)
        station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    '''
    offer(site, "tidy", files={"models.py": models})
    with pytest.raises(StartupError, match=r"plugin tidy: table thing \(model Thing\) must start"
                                           r" with tidy_"):
        start('[plugins]\ninstalled = ["tidy"]')


def test_a_plugin_name_offered_twice_stops_start_up_naming_both(site):
    offer(site, "twin", module="wardens_twin_one")
    offer(site, "twin", module="wardens_twin_two")
    with pytest.raises(StartupError, match=r"plugin twin is offered twice: by dist_wardens_twin_"):
        start('[plugins]\ninstalled = ["twin"]')


def test_a_plugin_must_describe_itself_under_its_installed_name(site):
    offer(site, "alias", source=PLUGIN.replace('name="{name}"', 'name="other"'))
    with pytest.raises(StartupError, match="plugin alias describes itself as 'other'"):
        start('[plugins]\ninstalled = ["alias"]')


def test_a_hook_implementation_without_a_spec_is_refused(site):
    offer(site, "typo", source=PLUGIN + "\n\n@hookimpl\ndef wardens_task_finished(session):\n"
                                        "    pass\n")
    with pytest.raises(StartupError, match=r"plugin typo: unknown hook 'wardens_task_finished'"):
        start('[plugins]\ninstalled = ["typo"]')


def test_a_plugin_not_installed_is_never_imported(site):
    broken = offer(site, "broken", source="raise RuntimeError('imported!')\n")
    deployment = start("[plugins]\ninstalled = []")
    assert deployment.plugins == {}
    assert broken not in sys.modules
    assert deployment.pm.is_blocked("broken")
    with pytest.raises(StartupError, match=r"plugin broken: cannot load wardens_broken_plugin"
                                           r".*imported!"):
        start('[plugins]\ninstalled = ["broken"]')


@pytest.mark.parametrize(("toml", "message"), [
    ('[plugins]\ninstalled = ["sample", "sample"]', "lists sample twice"),
    ('[plugins]\ninstalled = []\n[plugins.sample]\nx = 1', r"\[plugins.sample\] is set but"
                                                          " sample is not installed"),
    ('[plugins]\ninstalled = ["Sample!"]', "'Sample!' is not a plugin name"),
    ('[points]\n"patrol.scan" = 2', r"\[points\] patrol.scan: an event code is <plugin>.<event>"),
    ('[points]\n"core.task_completed" = "ten"', r"\[points\] core.task_completed must be an"
                                                " integer"),
    ('[plugin]\ninstalled = []', r"unknown section\(s\) plugin"),
    ('[plugins]\ninstalled = ["sample"]\n[plugins.sample]\napi_token = {env = "NO_SUCH_VAR"}',
     r"\[plugins.sample\] api_token: environment variable NO_SUCH_VAR is not set"),
])
def test_a_wrong_plugins_toml_is_refused_naming_the_key(sample_site, toml, message):
    with pytest.raises(StartupError, match=message):
        start(toml)


def test_secrets_come_from_the_environment(sample_site, monkeypatch):
    monkeypatch.setenv("SAMPLE_TOKEN", "from-the-env")
    deployment = start('[plugins]\ninstalled = ["sample"]\n'
                       '[plugins.sample]\napi_token = {env = "SAMPLE_TOKEN"}')
    assert deployment.plugins["sample"].defaults == {"api_token": "from-the-env"}
    assert deployment.plugins["sample"].source == "wardens_sample (tests.sample_plugin)"


def test_task_kinds_and_blueprint_names_are_unique(site, sample_site):
    taken = PLUGIN.replace('version="0.1.0"', 'version="0.1.0", task_kinds=(TaskKind("sample_visit"),)')
    taken = taken.replace("import PluginInfo", "import PluginInfo, TaskKind")
    offer(site, "copycat", source=taken)
    with pytest.raises(StartupError, match="plugin .*: task kind sample_visit is already taken"):
        start('[plugins]\ninstalled = ["sample", "copycat"]')

    clash = PLUGIN + '''

@hookimpl
def wardens_register_blueprints():
    from api.smorest import Blueprint
    return [Blueprint("sample", __name__)]
'''
    offer(site, "mimic", source=clash)
    deployment = Deployment(Database("sqlite://"), DeploymentConfig.from_dict(
        {"plugins": {"installed": ["sample", "mimic"]}}))
    with pytest.raises(StartupError, match="plugin mimic: blueprint sample is already registered"
                                           " by sample"):
        create_app(TEST_CONFIG, deployment=deployment)


def test_the_command_line_says_why_it_cannot_start(sample_site, tmp_path):
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins]\ninstalled = ["sample", "ghost"]\n')
    env = {**os.environ, "WARDENS_PLUGINS_TOML": str(toml), "WARDENS_INSTANCE": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(sample_site), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "api.cli", "plugins", "list"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "wardens: cannot start: plugins.toml installs unknown plugin 'ghost'" in done.stderr
    assert "Traceback" not in done.stderr

    toml.write_text('[plugins]\ninstalled = ["sample"]\n[plugins.sample]\ngreeting = "hi"\n')
    listed = subprocess.run([sys.executable, "-m", "api.cli", "plugins", "list"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "sample 1.0.0  Notes, for testing the plugin platform" in listed.stdout
    assert "from: wardens_sample (tests.sample_plugin)" in listed.stdout
    assert "endpoints: /api/v1/stations/<station>/sample/" in listed.stdout
    assert "jobs: sample.tally" in listed.stdout


def test_a_built_in_name_offered_by_a_distribution_too_is_refused(site, tmp_path, monkeypatch):
    import core.plugins

    built_in = tmp_path / "plugins" / "beacon"
    built_in.mkdir(parents=True)
    (built_in / "__init__.py").write_text("")
    monkeypatch.setattr(core.plugins, "BUILTIN_ROOT", tmp_path / "plugins")
    offer(site, "beacon")
    with pytest.raises(StartupError, match="plugin beacon is built in and also offered by"
                                           " dist_wardens_beacon_plugin"):
        start("[plugins]\ninstalled = []")


def test_a_group_kind_is_owned_by_one_plugin(site):
    owner = PLUGIN.replace('version="0.1.0"', 'version="0.1.0", group_kinds=("night_team",)')
    offer(site, "watch_one", source=owner)
    offer(site, "watch_two", source=owner)
    assert start('[plugins]\ninstalled = ["watch_one"]').group_kinds == {"night_team": "watch_one"}
    with pytest.raises(StartupError, match="plugin watch_two: group kind night_team is already"
                                           " owned by watch_one"):
        start('[plugins]\ninstalled = ["watch_one", "watch_two"]')
