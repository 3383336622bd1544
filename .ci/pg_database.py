"""Create the test database named in a PostgreSQL URL; fail loudly if the server is unreachable."""

import re
import subprocess
import sys

url = sys.argv[1]
match = re.match(r"postgresql(?:\+\w+)?://(?P<user>[^@/]+)@(?P<host>[^:/]+):(?P<port>\d+)/(?P<db>\w+)", url)
if not match:
    sys.exit(f"cannot read PostgreSQL URL {url}")
args = ["-h", match["host"], "-p", match["port"], "-U", match["user"]]
exists = subprocess.run(["psql", *args, "-d", "postgres", "-tAc",
                         f"SELECT 1 FROM pg_database WHERE datname = '{match['db']}'"],
                        capture_output=True, text=True)
if exists.returncode != 0:
    sys.exit(f"PostgreSQL is not reachable at {match['host']}:{match['port']}: {exists.stderr}")
if exists.stdout.strip() != "1":
    subprocess.run(["createdb", *args, match["db"]], check=True)
print(f"PostgreSQL database {match['db']} is ready")
