#!/usr/bin/env bash
# The open API against its own OpenAPI document: schemathesis (PyPI) drives a live
# `releve serve` on a demo database with an API key holding every scope, through every
# operation (coverage, fuzzing, and stateful sequences along the document's links), and fails
# on any server error, undocumented status, content type or header, or an answer that breaks
# its schema. Run by scripts/test after the debug build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RELEVE_BIN:-target/debug/releve}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-150}
# pip puts `st` beside python3 when it is not on PATH (a user install).
ST=$(command -v st || echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/st")

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

"$BIN" demo --db "$dir/demo.db" --meters 40 --now 2026-11-20 > /dev/null
secret=$(RELEVE_PASSWORD=manager "$BIN" api-keys create --db "$dir/demo.db" --name schemathesis \
  --scope meters:read --scope customers:read --scope readings:read --scope intervals:read \
  --scope info_codes:read --scope exchanges:read --scope exchanges:write --scope exports:run \
  --rate 100000 | grep -o 'rlv_[0-9a-f]\{64\}' | head -1)
[ -n "$secret" ] || { echo "schemathesis: no API key created"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The demo's data is fixed in time: the real night (02:00-06:00 in Paris) must not compact it.
RELEVE_NIGHTLY_RETENTION=off "$BIN" serve --db "$dir/demo.db" --addr "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" > /dev/null && break
  sleep 0.2
done

rc=0
"${ST:-st}" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $secret" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-time "$MAX_TIME" --workers 2 --suppress-health-check too_slow,filter_too_much \
  --report junit --report-dir "tests/artifacts/schemathesis" || rc=$?
if [ "$rc" -ne 0 ]; then
  # What the server said, so a failure seen only in CI can be read from its log.
  echo "schemathesis: exit $rc; the server's log (last 60 lines):"
  tail -n 60 "$dir/serve.log"
fi
exit "$rc"
