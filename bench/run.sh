#!/usr/bin/env bash
# Load bench (see bench/run.py): wardens serve on PostgreSQL vs a minimal Flask + SQLAlchemy insert.
# Usage: bench/run.sh [--duration 10] [--connections 16] [--database postgresql+psycopg://...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"  # the project's virtual environment (make install)
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y wrk >/dev/null; }
exec "$PYTHON" bench/run.py "$@"
