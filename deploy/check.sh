#!/usr/bin/env bash
# `make check-deploy`: systemd-analyze verify on the units and nginx -t on the site, offline,
# with a self-signed certificate made here in place of the site's certbot paths.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wardens="${WARDENS_BIN:-$PWD/.venv/bin/wardens}"

# The units name the installed command (/opt/wardens); verify runs them against this checkout's.
for unit in deploy/systemd/*.service; do
  sed "s#/opt/wardens/.venv/bin/wardens#$wardens#g" "$unit" > "$work/$(basename "$unit")"
done
# verify exits 0 on an unknown key or section: any line it prints is a failure here.
if ! found=$(systemd-analyze verify "$work"/*.service 2>&1) || [ -n "$found" ]; then
  echo "$found" >&2
  echo "systemd-analyze verify: the units above need fixing" >&2
  exit 1
fi
echo "systemd-analyze verify: $(ls deploy/systemd/*.service | xargs -n1 basename | tr '\n' ' ')ok"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=wardens.example.org" -keyout "$work/privkey.pem" -out "$work/fullchain.pem" \
  2>/dev/null
sed "s#/etc/letsencrypt/live/wardens.example.org/#$work/#g" deploy/nginx/wardens.conf \
  > "$work/wardens.conf"
if grep -q "/etc/letsencrypt" "$work/wardens.conf"; then
  echo "deploy/nginx/wardens.conf: a certificate path other than the placeholder" >&2
  exit 1
fi
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $PWD/deploy/nginx/wardens-upstream.conf;
    include $work/wardens.conf;
}
CONF
nginx -t -q -e "$work/error.log" -p "$work" -c "$work/nginx.conf"
echo "nginx -t: deploy/nginx/wardens.conf with wardens-upstream.conf ok"
