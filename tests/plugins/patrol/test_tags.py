"""Checkpoint tags: the URI a tag shows, read back by the app into a scan that succeeds."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import segno

from core import clock
from plugins.patrol import tags
from tests.plugins.patrol.conftest import T0


def read_tag(uri: str) -> tuple[str, int, str]:
    """What a phone does with a scanned QR or NFC URI: station, checkpoint, code."""
    parts = urllib.parse.urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("wardens", "checkpoint")
    station, checkpoint = parts.path.strip("/").split("/")
    return station, int(checkpoint), urllib.parse.parse_qs(parts.query)["c"][0]


def test_the_rotating_and_the_printed_tag_fill_scans_that_succeed(scene):
    tag = scene.get(f"/checkpoints/{scene.tags[0].id}/tag")
    assert tag.status_code == 200, tag.json
    rotating, printed = tag.json["rotating"], tag.json["static"]
    station, checkpoint_id, code = read_tag(rotating["uri"])
    assert (station, checkpoint_id, code) == ("east", scene.tags[0].id, scene.tags[0].code(T0))
    assert rotating["valid_until"] > T0.isoformat().replace("+00:00", "Z")
    patrol = scene.start()
    near = scene.body(0)
    scanned = scene.post(f"/patrols/{patrol['id']}/scans", json={
        **near, "checkpoint_id": checkpoint_id, "code": code})
    assert scanned.status_code == 201, scanned.json
    assert (scanned.json["status"], scanned.json["assurance"]) == ("ok", "rotating")

    station, checkpoint_id, code = read_tag(
        scene.get(f"/checkpoints/{scene.tags[1].id}/tag").json["static"]["uri"])
    assert code == scene.tags[1].static_code
    clock.advance(dt.timedelta(minutes=2))
    scanned = scene.post(f"/patrols/{patrol['id']}/scans", json={
        **scene.body(1), "checkpoint_id": checkpoint_id, "code": code})
    assert scanned.status_code == 201, scanned.json
    assert scanned.json["assurance"] == "static"
    # the NFC tag holds the same URI as one NDEF URI record
    ndef = bytes.fromhex(printed["ndef_hex"])
    assert ndef[:2] == b"\xd1\x01" and ndef[3:5] == b"U\x00"
    assert ndef[5:].decode() == printed["uri"]


def test_the_printed_sheet_carries_the_static_uri(scene):
    sheet = scene.get(f"/routes/{scene.route_id}/code-sheet").json
    assert [read_tag(row["tag_uri"]) for row in sheet] == [
        ("east", t.id, t.static_code) for t in scene.tags]
    csv = scene.get(f"/routes/{scene.route_id}/code-sheet.csv").get_data(as_text=True)
    assert sheet[0]["tag_uri"] in csv


def test_tag_svg_is_the_qr_of_the_uri_for_officers_only(scene):
    svg = scene.get(f"/checkpoints/{scene.tags[0].id}/tag.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "no-store"
    uri = scene.get(f"/checkpoints/{scene.tags[0].id}/tag").json["static"]["uri"]
    # the same QR symbol segno makes of the URI (segno is deterministic)
    assert svg.get_data(as_text=True) == tags.svg(tags.parse(uri), title="Point 1")
    assert segno.make(uri, error="m", boost_error=False).designator.endswith("-M")
    rotating = scene.get(f"/checkpoints/{scene.tags[0].id}/tag.svg?variant=rotating")
    assert rotating.status_code == 200 and rotating.get_data() != svg.get_data()
    refused = scene.client.get(scene.url(f"/checkpoints/{scene.tags[0].id}/tag.svg"),
                               headers=scene.headers(scene.walker))
    assert refused.status_code == 403
    assert scene.client.get(scene.url(f"/checkpoints/{scene.tags[0].id}/tag"),
                            headers=scene.headers(scene.walker)).status_code == 403
    bad = scene.get(f"/checkpoints/{scene.tags[0].id}/tag.svg?variant=blinking")
    assert bad.status_code == 422


def test_a_tag_uri_that_is_not_a_checkpoint_is_refused():
    for uri in ("https://example.org/", "wardens://checkpoint/east/x?c=1",
                "wardens://checkpoint/east/5", "wardens://coupon/east/5?c=1"):
        try:
            tags.parse(uri)
        except ValueError:
            continue
        raise AssertionError(uri)
    assert tags.parse("wardens://checkpoint/east/5?c=ABCD-EFGH") == tags.TagPayload(
        "east", 5, "ABCD-EFGH")
