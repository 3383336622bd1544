"""The calendar feed's secret never reaches an access log, whichever server writes it."""

from __future__ import annotations

import datetime as dt
import logging

from gunicorn.config import Config
from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

SECRET = "s3cr3t-feed-token-0123456789abcdef"
FEED = f"/api/v1/stations/east/crossing-guard/feed/{SECRET}.ics"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_gunicorn_access_log_masks_the_feed_secret(app):
    config = Config()
    config.set("accesslog", "-")  # as a deployment that turns gunicorn's access log on sets it
    gunicorn = Logger(config)
    lines = Lines()
    gunicorn.access_log.addHandler(lines)
    try:
        response = type("Response", (), {"status": "200 OK", "sent": 10, "headers": []})()
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": FEED + "?x=1", "PATH_INFO": FEED,
                   "QUERY_STRING": "x=1", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
                   "HTTP_REFERER": "https://calendar.example" + FEED}
        gunicorn.access(response, [], environ, dt.timedelta(milliseconds=5))
    finally:
        gunicorn.access_log.removeHandler(lines)
    assert lines.lines and SECRET not in lines.lines[0]
    assert "/crossing-guard/feed/***.ics?x=1" in lines.lines[0]
    # Other URLs are logged as they are.
    assert "/api/v1/stations/east/crossing-guard/feed " not in lines.lines[0]


def test_werkzeug_request_log_masks_the_feed_secret(app, caplog):
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.requestline = f"GET {FEED} HTTP/1.1"
    handler.command, handler.path, handler.request_version = "GET", FEED, "HTTP/1.1"
    handler.client_address = ("127.0.0.1", 5000)
    handler.address_string = lambda: "127.0.0.1"  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        handler.log_request(200, 10)
        logging.getLogger("werkzeug").info("GET /api/v1/me HTTP/1.1 200")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/crossing-guard/feed/***.ics" in text and SECRET not in text
    assert "GET /api/v1/me HTTP/1.1 200" in text
