"""The SDK: pinned, imported only when used, initialised once, never the emulator in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import tomllib
from pathlib import Path

import firebase_admin

from plugins.firebase import sdk
from tests.plugins.firebase.google_standins import new_key, private_pem

ROOT = Path(__file__).resolve().parents[3]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in (sdk.EMULATOR_VARIABLE, "WARDENS_ENV", "WARDENS_DATABASE_URL")}
    base.update({"WARDENS_INSTANCE": str(tmp_path / "instance"),
                 "WARDENS_DATABASE_URL": f"sqlite:///{tmp_path / 'wardens.db'}",
                 "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml"), **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=120)


def test_the_sdk_version_is_pinned_and_installed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "firebase-admin==7.7.0" in project["dependencies"]
    assert firebase_admin.__version__ == "7.7.0"


def test_start_up_refuses_the_emulator_variable_in_production(tmp_path):
    refused = run(["-m", "api.cli", "plugins", "list"], tmp_path,
                  FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", WARDENS_ENV="production")
    assert refused.returncode == 2
    assert "cannot start" in refused.stderr and "FIREBASE_AUTH_EMULATOR_HOST" in refused.stderr
    unset_env = run(["-m", "api.cli", "plugins", "list"], tmp_path,
                    FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")  # WARDENS_ENV defaults to production
    assert unset_env.returncode == 2
    development = run(["-m", "api.cli", "plugins", "list"], tmp_path,
                      FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", WARDENS_ENV="development")
    assert development.returncode == 0, development.stderr
    assert "firebase" in development.stdout
    production = run(["-m", "api.cli", "plugins", "list"], tmp_path, WARDENS_ENV="production")
    assert production.returncode == 0, production.stderr


LAZY = textwrap.dedent("""
    import json, sys
    from api import create_app
    from core import migrate, notifications
    app = create_app({"SECRET_KEY": "x" * 32})
    deployment = app.extensions["wardens"]
    migrate.upgrade(deployment.database.url)
    client = app.test_client()
    body = {"phone": "+8613911110000", "password": "s3cret-pass", "display_name": "x"}
    tokens = client.post("/api/v1/auth/register", json=body).json
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    client.post("/api/v1/auth/token", json={"grant_type": "password", "phone": body["phone"],
                                            "password": body["password"]})
    client.post("/api/v1/me/devices", headers=headers, json={"token": "t", "platform": "ios"})
    with deployment.database.writer() as session:
        notifications.notify(session, tokens["user"]["id"], "core.points_adjusted")
        session.commit()
    delivered = notifications.deliver_pending(deployment.database.writer, "w")
    client.post("/api/v1/auth/logout", headers=headers)
    before = "firebase_admin" in sys.modules
    refused = client.post("/api/v1/auth/token", json={"grant_type": "firebase",
                                                      "id_token": "not-a-token"})
    print(json.dumps({"before": before, "delivered": delivered, "status": refused.status_code,
                      "code": refused.json["code"], "after": "firebase_admin" in sys.modules}))
""")


def test_firebase_admin_is_imported_only_when_a_firebase_grant_arrives(tmp_path):
    # A service-account file, so the SDK never looks for Application Default Credentials.
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps({
        "type": "service_account", "project_id": "demo-wardens", "private_key_id": "k",
        "private_key": private_pem(new_key()), "token_uri": "https://oauth2.googleapis.com/token",
        "client_email": "wardens@demo-wardens.iam.gserviceaccount.com"}))
    toml = tmp_path / "plugins.toml"
    toml.write_text(f'[plugins]\ninstalled = ["firebase"]\n[plugins.firebase]\n'
                    f'project_id = "demo-wardens"\ncredentials_file = "{account}"\n')
    done = run(["-c", LAZY], tmp_path, WARDENS_PLUGINS_TOML=str(toml), NO_GCE_CHECK="true")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # registration, password sign-in, a push device, delivery to the inbox and logout: no SDK
    assert result == {"before": False, "delivered": 1, "status": 401,
                      "code": "firebase_token_invalid", "after": True}


def test_the_app_is_initialised_once_with_the_explicit_project_id(tmp_path):
    settings = {"project_id": "demo-once-only", "credentials_file": None, "http_timeout": 7}
    barrier = threading.Barrier(8)
    apps: list[object] = []

    def first_use() -> None:
        barrier.wait()
        apps.append(sdk.app(settings))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(app) for app in apps}) == 1
    app = apps[0]
    assert firebase_admin.get_app(app.name) is app
    assert app.project_id == "demo-once-only" and app.options.get("httpTimeout") == 7
    assert sdk.app(dict(settings)) is app
