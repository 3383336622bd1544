"""The deployment files in deploy/: what can be checked without building images (the units and
the nginx site are checked by `make check-deploy`, systemd-analyze and nginx -t)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_compose_runs_postgres_redis_two_apis_a_worker_and_nginx():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "api1", "api2", "worker", "nginx"} <= set(services)
    for name in ("api1", "api2", "worker"):
        service = services[name]
        env = service["environment"]
        assert env["WARDENS_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["WARDENS_RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("api1", "api2"):
        assert "wardens check" in " ".join(services[name]["command"])
        assert "wardens serve" in " ".join(services[name]["command"])
    assert services["worker"]["command"][:2] == ["wardens", "worker"]
    mounted = " ".join(services["nginx"]["volumes"])
    assert "nginx/wardens.conf" in mounted and "compose-upstream.conf" in mounted
    upstream = (DEPLOY / "nginx/compose-upstream.conf").read_text(encoding="utf-8")
    assert "api1:8000" in upstream and "api2:8000" in upstream


def test_the_image_runs_as_a_user_and_says_it_is_not_built_here():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "cannot be built on these machines" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "slim" in dockerfile.split("\nFROM ")[-1].splitlines()[0]


def test_the_units_are_hardened_and_check_before_they_start():
    for name in ("wardens-api.service", "wardens-worker.service"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read(DEPLOY / "systemd" / name)
        service = unit["Service"]
        assert service["User"] == "wardens" or service.get("DynamicUser") == "yes"
        for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes",
                           "PrivateTmp": "yes", "ProtectHome": "yes"}.items():
            assert service[key] == value, (name, key)
        assert service["ReadWritePaths"] == "/var/lib/wardens"
        assert service["EnvironmentFile"] == "/etc/wardens/wardens.env"
        assert "wardens check" in service["ExecStartPre"]


def settings_read() -> set[str]:
    """Every WARDENS_* name the code mentions."""
    return {name for folder in ("core", "api", "console", "plugins")
            for path in (DEPLOY.parent / folder).rglob("*.py")
            for name in re.findall(r"WARDENS_[A-Z_]+", path.read_text(encoding="utf-8"))}


def test_the_env_example_names_only_settings_the_code_reads():
    read = settings_read()
    example = (DEPLOY / "wardens.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?(WARDENS_[A-Z_]+)=", example, re.MULTILINE))
    # WARDENS_FIREBASE_CREDENTIALS: named by plugins.toml's {env = ...}, not by the code.
    assert named - read == {"WARDENS_FIREBASE_CREDENTIALS"}


def test_every_setting_the_code_reads_is_in_the_operations_guide():
    read = settings_read()
    guide = (DEPLOY.parent / "docs/operations.md").read_text(encoding="utf-8")
    configure = guide.split("## Configure", 1)[1].split("\n## ", 1)[0]
    # WARDENS_METRICS_DIR_MADE: serve's note to itself across its restart, not a setting.
    missing = sorted(read - {"WARDENS_METRICS_DIR_MADE"} - set(re.findall(r"WARDENS_[A-Z_]+",
                                                                          configure)))
    assert not missing, f"docs/operations.md, Configure, lacks {missing}"
