"""Incidents with photos, who sees them, and the duty roster."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib

import sqlalchemy as sa

from core import clock
from core.models import Notification, StationPlugin
from plugins.patrol.models import Incident, IncidentPhoto
from tests.plugins.patrol.conftest import T0, offset

HOUR = dt.timedelta(hours=1)


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image, built by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(scene, incident_id, person, *files):
    return scene.client.post(
        scene.url(f"/incidents/{incident_id}/photos"), headers=scene.headers(person),
        data={"photo": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data")


def notified(scene, code):
    return sorted(scene.session.scalars(sa.select(Notification.user_id).where(
        Notification.station_id == scene.station.id, Notification.code == code)))


def put_on_duty(scene, officer, starts, ends):
    answer = scene.post("/roster", scene.officer, json={
        "officer_id": officer.id, "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
        "note": "night desk"})
    assert answer.status_code == 201, answer.json
    return answer.json


def report(scene, person=None, **body):
    lat, lon = offset(20, 40)
    payload = {"category": "theft", "description": "A man is taking an e-bike battery",
               "lat": lat, "lon": lon, "accuracy_m": 9, **body}
    return scene.post("/incidents", person, json=payload)


def test_an_incident_with_photos_reaches_the_on_duty_officer_only(scene, world, session):
    on_duty = world.person("Officer Wang", station=scene.station, roles=["officer"])
    put_on_duty(scene, on_duty, T0 - HOUR, T0 + 8 * HOUR)
    put_on_duty(scene, scene.officer, T0 + 8 * HOUR, T0 + 16 * HOUR)  # off duty now
    patrol = scene.start()
    clock.advance(dt.timedelta(minutes=7))
    answer = report(scene)
    assert answer.status_code == 201, answer.json
    incident = answer.json
    assert incident["status"] == "reported" and incident["patrol_id"] == patrol["id"]
    assert notified(scene, "patrol.incident_reported") == [on_duty.id]

    image = png()
    added = upload(scene, incident["id"], scene.walker, ("battery.png", image))
    assert added.status_code == 201, added.json
    assert [(p["content_type"], p["size_bytes"]) for p in added.json] == [("image/png", len(image))]

    # The reporter and the station's officers see it and its photo; nobody else does.
    photo_url = f"/incidents/{incident['id']}/photos/{added.json[0]['id']}"
    mine = scene.get(photo_url, scene.walker)
    assert mine.status_code == 200 and mine.data == image and mine.mimetype == "image/png"
    assert "no-store" in mine.headers["Cache-Control"]
    assert scene.get(photo_url, on_duty).data == image
    neighbour = world.person("Another volunteer", station=scene.station, roles=["volunteer"])
    assert scene.get(photo_url, neighbour).status_code == 404
    assert scene.get(f"/incidents/{incident['id']}", neighbour).status_code == 404
    west = world.station("west", plugins=("patrol",))
    stranger = world.person("West volunteer", station=west, roles=["volunteer"])
    for path in (photo_url, f"/incidents/{incident['id']}"):
        assert scene.get(path, stranger).status_code == 404
    west_url = f"/api/v1/stations/west/patrol/incidents/{incident['id']}"
    assert scene.client.get(west_url, headers=stranger.headers).status_code == 404
    detail = scene.get(f"/incidents/{incident['id']}", scene.walker).json
    assert detail["photo_count"] == 1 and len(detail["photos"]) == 1


def test_only_images_within_the_size_limit_and_three_at_most(scene, session):
    row = session.scalar(sa.select(StationPlugin).where(StationPlugin.station_id == scene.station.id))
    row.settings = {"photo_max_bytes": 10 * 1024}
    session.commit()
    scene.start()
    incident = report(scene).json
    text = upload(scene, incident["id"], scene.walker, ("photo.jpg", b"not a picture at all"))
    assert text.status_code == 422 and text.json["code"] == "photo_type_not_allowed"
    html = upload(scene, incident["id"], scene.walker, ("x.png", b"<html><script>x</script>"))
    assert html.status_code == 422
    big = upload(scene, incident["id"], scene.walker, ("big.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 11_000))
    assert big.status_code == 422 and big.json["code"] == "photo_too_large"
    assert big.json["details"]["max_bytes"] == 10 * 1024
    huge = upload(scene, incident["id"], scene.walker, ("huge.jpg", b"\xff\xd8\xff" + b"\0" * 200_000))
    assert huge.status_code == 413 and huge.json["code"] == "payload_too_large"
    none = scene.client.post(scene.url(f"/incidents/{incident['id']}/photos"),
                             headers=scene.headers(scene.walker), data={},
                             content_type="multipart/form-data")
    assert none.status_code == 422 and none.json["code"] == "photo_missing"
    assert session.scalar(sa.select(sa.func.count()).select_from(IncidentPhoto)) == 0

    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 500
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x22" * 500
    two = upload(scene, incident["id"], scene.walker, ("a.jpg", jpeg), ("b.webp", webp))
    assert [p["content_type"] for p in two.json] == ["image/jpeg", "image/webp"]
    two_more = upload(scene, incident["id"], scene.walker, ("c.png", png()), ("d.png", png()))
    assert two_more.status_code == 422 and two_more.json["code"] == "too_many_photos"
    assert upload(scene, incident["id"], scene.walker, ("c.png", png())).status_code == 201
    assert upload(scene, incident["id"], scene.walker, ("e.png", png())).status_code == 422
    stored = session.scalar(sa.select(Incident).where(Incident.id == incident["id"]))
    session.refresh(stored)
    assert stored.photo_count == 3


def test_officers_acknowledge_and_resolve_and_the_reporter_sees_it(scene, world):
    scene.start()
    incident = report(scene, category="lost_person", description="An elderly man, lost").json
    # Nobody on the roster: every officer is told.
    assert notified(scene, "patrol.incident_reported") == [scene.officer.id]
    refused = scene.post(f"/incidents/{incident['id']}/acknowledge", scene.walker, json={})
    assert refused.status_code == 403
    ack = scene.post(f"/incidents/{incident['id']}/acknowledge", scene.officer,
                     json={"note": "On my way"})
    assert ack.status_code == 200 and ack.json["status"] == "acknowledged"
    again = scene.post(f"/incidents/{incident['id']}/acknowledge", scene.officer, json={})
    assert again.status_code == 409 and again.json["code"] == "incident_not_open"
    clock.advance(dt.timedelta(minutes=30))
    done = scene.post(f"/incidents/{incident['id']}/resolve", scene.officer,
                      json={"note": "Taken home to his daughter"})
    assert done.status_code == 200 and done.json["status"] == "resolved"
    seen = scene.get(f"/incidents/{incident['id']}", scene.walker).json
    assert (seen["status"], seen["acknowledge_note"], seen["resolution_note"]) == (
        "resolved", "On my way", "Taken home to his daughter")
    assert notified(scene, "patrol.incident_acknowledged") == [scene.walker.id]
    assert notified(scene, "patrol.incident_resolved") == [scene.walker.id]
    mine = scene.get("/incidents", scene.walker)
    assert [i["id"] for i in mine.json] == [incident["id"]]
    partner = world.person("Property security lead", station=scene.station, roles=["partner"])
    summary = scene.get("/incidents/summary", partner)
    assert summary.status_code == 200
    assert summary.json["by_category"] == {"lost_person": 1} and summary.json["total"] == 1
    assert scene.get("/incidents", partner).json == []  # partners read counts, not reports


def test_reporting_needs_a_patrol_or_an_officer_and_a_resent_report_is_one(scene, world):
    refused = report(scene)
    assert refused.status_code == 403 and refused.json["code"] == "not_on_patrol"
    by_officer = report(scene, scene.officer, category="fire", client_id="incident-0001")
    assert by_officer.status_code == 201
    again = report(scene, scene.officer, category="fire", client_id="incident-0001")
    assert again.status_code == 200 and again.json["id"] == by_officer.json["id"]
    bad = report(scene, scene.officer, category="aliens")
    assert bad.status_code == 422


def test_the_duty_roster_is_shared_with_patrol_members_and_partners(scene, world):
    put_on_duty(scene, scene.officer, T0 - HOUR, T0 + 7 * HOUR)
    partner = world.person("Property security lead", station=scene.station, roles=["partner"])
    resident = world.person("Resident", station=scene.station, roles=["resident"])
    for person in (scene.walker, partner, scene.officer):
        listed = scene.get("/roster", person)
        assert listed.status_code == 200, listed.json
        assert [(s["officer_name"], s["note"]) for s in listed.json] == [("Officer Li", "night desk")]
    hidden = scene.get("/roster", resident)
    assert hidden.status_code == 403 and hidden.json["code"] == "roster_not_shared"
    on_duty = scene.get("/roster/on-duty", partner)
    assert [o["display_name"] for o in on_duty.json] == ["Officer Li"]
    later = scene.get("/roster/on-duty", partner,
                      query_string={"at": (T0 + 8 * HOUR).isoformat()})
    assert later.json == []
    # The shift runs 19:00-03:00 Shanghai time: it is on the roster of both local days.
    tomorrow = scene.get("/roster", partner, query_string={"date": "2026-03-03"})
    assert len(tomorrow.json) == 1
    assert scene.get("/roster", partner, query_string={"date": "2026-03-04"}).json == []
    not_officer = scene.post("/roster", scene.officer, json={
        "officer_id": scene.walker.id, "starts_at": T0.isoformat(),
        "ends_at": (T0 + HOUR).isoformat()})
    assert not_officer.status_code == 422 and not_officer.json["code"] == "not_an_officer"
    backwards = scene.post("/roster", scene.officer, json={
        "officer_id": scene.officer.id, "starts_at": T0.isoformat(), "ends_at": T0.isoformat()})
    assert backwards.status_code == 422
    assert scene.post("/roster", scene.walker, json={
        "officer_id": scene.officer.id, "starts_at": T0.isoformat(),
        "ends_at": (T0 + HOUR).isoformat()}).status_code == 403


def test_a_photo_upload_retried_with_an_idempotency_key_is_stored_once(scene, session):
    """A phone on a bad connection re-sends the same upload: the first answer is replayed."""
    scene.start()
    incident = report(scene).json
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * (1536 * 1024)  # over the 1 MB JSON limit
    answers = []
    for _ in range(2):
        answers.append(scene.client.post(
            scene.url(f"/incidents/{incident['id']}/photos"),
            headers={**scene.headers(scene.walker), "Idempotency-Key": "photo-upload-1"},
            data={"photo": [(io.BytesIO(jpeg), "p.jpg")]}, content_type="multipart/form-data"))
    assert [a.status_code for a in answers] == [201, 201], answers[1].json
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    assert answers[1].json == answers[0].json
    assert session.scalar(sa.select(sa.func.count()).select_from(IncidentPhoto).where(
        IncidentPhoto.incident_id == incident["id"])) == 1
