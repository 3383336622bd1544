"""The console's vendored front-end files are the pinned ones, each with its licence, and
every page loads its assets from the server itself (no CDN)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "console" / "static" / "vendor"


def test_vendored_files_match_their_pinned_digests():
    pinned = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        pinned[name] = digest
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*")
               if p.is_file() and p.name not in ("SHA256SUMS", "README.md")}
    assert on_disk == set(pinned)
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for folder in {Path(name).parts[0] for name in pinned}:
        assert (VENDOR / folder / "LICENSE").is_file(), f"{folder} has no licence"


def test_pages_load_nothing_from_elsewhere(world, console):
    station = world.station("east", plugins=("patrol",))
    admin = world.person("Admin", station=station, roles=["admin", "officer"])
    browser = console(admin.phone)
    for path in ("/console/sign-in", f"/console/{station.code}/dashboard",
                 f"/console/{station.code}/patrol/routes"):
        text = browser.get(path).get_data(as_text=True)
        sources = re.findall(r'(?:src|href)="([^"]+)"', text)
        assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert browser.get("/console/static/vendor/htmx-2.0.4/htmx.min.js").status_code == 200
