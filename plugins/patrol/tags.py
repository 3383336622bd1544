"""What a checkpoint's tag shows the phone: a URI in a QR code (or an NFC NDEF record).

``wardens://checkpoint/<station>/<checkpoint id>?c=<code>``: the app scans it and fills the scan
request (``checkpoint_id`` and ``code``) from it, so nobody picks a checkpoint or types digits.

- A **rotating** tag (a small screen) computes the six-digit code of the current step from its
  secret (the otpauth URI of the provisioning call) and shows the URI with that code.
- The **printed** sheet carries the **static** variant: the checkpoint's static code, which
  verifies as a static scan (paid only where the station lets static codes earn).

An NFC tag holds the same URI as one NDEF URI record (identifier code 0x00: the URI whole).
Rendering uses segno (pure Python); the SVG is made here, served by the API.
"""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from plugins.patrol import codes
from plugins.patrol.checkpoints import get_checkpoint
from plugins.patrol.models import Checkpoint

SCHEME = "wardens"
STATIC, ROTATING = "static", "rotating"


@dataclass(frozen=True)
class TagPayload:
    """A tag's URI and what the app fills a scan with."""

    station: str
    checkpoint_id: int
    code: str

    @property
    def uri(self) -> str:
        query = urllib.parse.urlencode({"c": self.code})
        return f"{SCHEME}://checkpoint/{urllib.parse.quote(self.station, safe='')}/" \
               f"{self.checkpoint_id}?{query}"


def parse(uri: str) -> TagPayload:
    """What an app reads off a tag; ValueError when it is not a checkpoint tag's URI."""
    parts = urllib.parse.urlsplit(uri)
    segments = parts.path.strip("/").split("/")
    query = urllib.parse.parse_qs(parts.query)
    if (parts.scheme != SCHEME or parts.netloc != "checkpoint" or len(segments) != 2
            or not segments[1].isdecimal() or len(query.get("c", [])) != 1):
        raise ValueError(f"not a checkpoint tag: {uri!r}")
    return TagPayload(urllib.parse.unquote(segments[0]), int(segments[1]), query["c"][0])


def ndef_record(uri: str) -> bytes:
    """One NDEF message with one short URI record (NFC Forum RTD-URI, identifier code 0x00)."""
    payload = b"\x00" + uri.encode("utf-8")
    if len(payload) > 255:
        raise ValueError("a tag URI this long needs a long NDEF record")
    # MB | ME | SR, TNF 1 (well-known); type length 1; payload length; type "U"
    return bytes([0xD1, 0x01, len(payload)]) + b"U" + payload


def static_payload(station: str, checkpoint: Checkpoint) -> TagPayload:
    return TagPayload(station, checkpoint.id, codes.static_code(checkpoint.secret))


def rotating_payload(station: str, checkpoint: Checkpoint,
                     at: dt.datetime) -> tuple[TagPayload, dt.datetime]:
    """The URI a rotating tag shows at ``at``, and when its code's step ends."""
    step = checkpoint.code_step_s
    counter = codes.counter_at(at, step)
    until = dt.datetime.fromtimestamp((counter + 1) * step, tz=dt.UTC)
    return TagPayload(station, checkpoint.id, codes.code_for(checkpoint.secret, counter)), until


def svg(payload: TagPayload, *, title: str = "") -> str:
    """The QR code of a tag's URI as SVG (error correction M: a scuffed sticker still reads)."""
    out = io.BytesIO()
    segno.make(payload.uri, error="m", boost_error=False).save(
        out, kind="svg", scale=8, border=4, xmldecl=False, title=title or None)
    return out.getvalue().decode("utf-8")


def tag(session: so.Session, who: Actor, checkpoint_id: int) -> tuple[Checkpoint, dict[str, Any]]:
    """Both variants of a checkpoint's tag (officers, audited: it shows the codes)."""
    who.require("officer", "admin")
    checkpoint = get_checkpoint(session, who, checkpoint_id)
    audit.record(session, actor=who.user, role=who.role, action="patrol.tag_read",
                 record=checkpoint)
    fixed = static_payload(who.station.code, checkpoint)
    now, until = rotating_payload(who.station.code, checkpoint, clock.now())
    return checkpoint, {
        "checkpoint_id": checkpoint.id,
        STATIC: {"uri": fixed.uri, "code": fixed.code, "ndef_hex": ndef_record(fixed.uri).hex()},
        ROTATING: {"uri": now.uri, "code": now.code, "valid_until": until,
                   "period": checkpoint.code_step_s},
    }
