"""A live Wardens server over a demo database, and Debian's headless Chromium driving it.

No browser is a failure, never a skip: `make test-browser` installs `chromium` and
`chromium-driver` first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from api import create_app
from core import demo, migrate
from core.db import Database
from core.plugins import Deployment, DeploymentConfig

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = Path(os.environ.get("WARDENS_SCREENSHOTS", ROOT / "docs" / "screenshots"))
CHROMIUM = ("chromium", "chromium-browser")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The demo station served on a free local port; the URL of its console."""
    folder = tempfile.mkdtemp(prefix="wardens-browser-")
    url = f"sqlite:///{folder}/browser.db"
    config = DeploymentConfig.load(ROOT / "plugins.toml")
    database = Database(url)
    deployment = Deployment(database, config)
    migrate.upgrade(url, extra_folders=deployment.migration_folders(),
                    plugin_names=deployment.plugin_names())
    with database.writer() as session, session.begin():
        demo.seed(session)
    app = create_app({"SECRET_KEY": "browser-test-secret-of-at-least-32-bytes",
                      "ENV": "testing", "RATELIMIT_STORAGE_URI": "memory://"},
                     deployment=deployment)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        database.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = next((shutil.which(name) for name in CHROMIUM if shutil.which(name)), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.fail("Chromium or chromedriver is missing: run `make browser` (Debian's "
                    "chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=zh-CN", "--disable-gpu"):
        options.add_argument(argument)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shoot(browser: Any) -> Any:
    """Save a screenshot of the page as docs/screenshots/<name>.png."""
    return lambda name: browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
