"""What every bench driver shares: a fresh database, waiting for a server, running wrk."""

from __future__ import annotations

import argparse
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "requests.lua"  # one pre-built request per line, each sent once


def recreate_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def wait_until_up(url: str, server: subprocess.Popen[bytes] | None = None,
                  timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"bench: the server stopped (exit {server.returncode}); see its log")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (a local URL)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"bench: {url} did not come up")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(name: str, url: str, lines: Path, args: argparse.Namespace, *, cycle: bool = False,
            duration: int | None = None) -> dict[str, float]:
    """Run wrk over a file of requests; any answer that is not 2xx fails the whole bench."""
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}",
               f"-d{duration or args.duration}s", "--latency", "--timeout", "10s",
               "-s", str(LUA), url, "--", str(lines), str(args.wrk_threads)]
    command += ["cycle"] if cycle else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    output = done.stdout
    if done.returncode != 0 or "Requests/sec" not in output:
        raise SystemExit(f"bench: wrk failed for {name}:\n{output}\n{done.stderr}")
    sent = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output) or "Socket errors" in output:
        if not cycle and sent >= sum(1 for _ in lines.open(encoding="utf-8")):
            raise SystemExit(f"bench: {name} ran out of pre-built requests ({sent} sent); "
                             "build more or lower --duration")
        raise SystemExit(f"bench: {name} had failures (every answer must be 2xx):\n{output}\n"
                         f"{done.stderr}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"bench: no latency distribution from wrk for {name}:\n{output}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
            "p50": to_ms(latency["50"]), "p99": to_ms(latency["99"]), "requests": sent}


def slice_of(path: Path, number: int, rounds: int) -> Path:
    """The ``number``-th of ``rounds`` equal parts of a request file (no line sent twice)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    size = len(lines) // rounds
    part = path.with_name(f"{path.stem}.{number}{path.suffix}")
    part.write_text("".join(lines[number * size:(number + 1) * size]), encoding="utf-8")
    return part
