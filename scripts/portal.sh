#!/usr/bin/env bash
# `make portal`: the Invoice Manager and the example portal (examples/portal)
# side by side on two sites, 127.0.0.1 and localhost, as a real portal and app
# would be. Both get a fresh shared SSO secret each run. Ctrl-C stops both;
# either one stopping stops the other.
set -euo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-5000}
PORTAL_PORT=${PORTAL_PORT:-5001}

secret() { "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
SSO_SECRET=$(secret)
PORTAL_SECRET_KEY=$(secret)
export SSO_SECRET PORTAL_SECRET_KEY PORTAL_PORT
export SSO_ISSUER="http://localhost:$PORTAL_PORT"
export FRAME_ANCESTORS="http://localhost:$PORTAL_PORT"
export INVOICE_MANAGER_URL="http://127.0.0.1:$PORT"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
trap 'exit 130' INT TERM
"$BIN/flask" run --host 127.0.0.1 --port "$PORT" &
pids+=($!)
"$BIN/python" -m examples.portal &
pids+=($!)
wait -n
