#!/usr/bin/env bash
# Start a real MongoDB-wire server for the packages tests: FerretDB with its SQLite backend, on
# loopback only. Idempotent: builds FerretDB once (cached), reuses a server already answering on
# the port. Progress goes to stderr; the last line on stdout is the MONGODB_URI to export:
#
#   MONGODB_URI=$(.ci/start-ferretdb.sh | tail -n1)
#
# Variables: FERRETDB_PORT (27017), FERRETDB_STATE_DIR (/tmp/fabrikam-ferretdb-<port>),
# FERRETDB_DATABASE (database name in the URI, fabrikam), GO (the go binary), FABRIKAM_CACHE.
set -euo pipefail

VERSION=1.24.2
PORT=${FERRETDB_PORT:-27017}
STATE_DIR=${FERRETDB_STATE_DIR:-/tmp/fabrikam-ferretdb-$PORT}
DATABASE=${FERRETDB_DATABASE:-fabrikam}
CACHE=${FABRIKAM_CACHE:-$HOME/.cache/fabrikam}
BIN=$CACHE/bin/ferretdb-$VERSION
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

say() { printf '    %s\n' "$*" >&2; }

# A MongoDB `ping` as a raw OP_MSG, with nothing but the Python standard library (no mongosh here).
ping() {
  python3 - "$PORT" <<'PY' >/dev/null 2>&1
import socket, struct, sys
def cstring(s): return s.encode() + b"\0"
body = (b"\x10" + cstring("ping") + struct.pack("<i", 1)
        + b"\x02" + cstring("$db") + struct.pack("<i", 6) + cstring("admin") + b"\0")
doc = struct.pack("<i", len(body) + 4) + body
msg = struct.pack("<I", 0) + b"\0" + doc
header = struct.pack("<iiii", 16 + len(msg), 1, 0, 2013)
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as sock:
    sock.sendall(header + msg)
    size = struct.unpack("<i", sock.recv(4))[0]
    reply = b""
    while len(reply) < size - 4:
        chunk = sock.recv(size - 4 - len(reply))
        if not chunk:
            break
        reply += chunk
ok = b"\x01ok\x00" + struct.pack("<d", 1.0)
sys.exit(0 if ok in reply else 1)
PY
}

if [ ! -x "$BIN" ]; then
  [ -x "$GO" ] || { echo "Go is needed to build FerretDB: install it or set GO=/path/to/go" >&2; exit 1; }
  say "building FerretDB v$VERSION with $GO (first time only, a few minutes)"
  module_dir=$("$GO" mod download -json "github.com/FerretDB/FerretDB@v$VERSION" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  build_dir=$(mktemp -d)
  trap 'rm -rf "$build_dir"' EXIT
  cp -r "$module_dir/." "$build_dir"
  chmod -R u+w "$build_dir"
  # A release build reads its version from a generated file that the module zip does not contain;
  # without it the binary panics at start ("Invalid build/version/version.txt").
  echo "v$VERSION" >"$build_dir/build/version/version.txt"
  mkdir -p "$(dirname "$BIN")"
  (cd "$build_dir" && GOFLAGS=-buildvcs=false "$GO" build -o "$BIN.tmp" ./cmd/ferretdb)
  mv "$BIN.tmp" "$BIN"
  say "built $BIN"
fi

if ping; then
  say "a MongoDB-wire server already answers on 127.0.0.1:$PORT"
else
  mkdir -p "$STATE_DIR/data"
  say "starting FerretDB v$VERSION (SQLite in $STATE_DIR/data) on 127.0.0.1:$PORT"
  nohup "$BIN" --handler=sqlite --sqlite-url="file:$STATE_DIR/data/" --state-dir="$STATE_DIR" \
    --listen-addr="127.0.0.1:$PORT" --debug-addr=- --telemetry=disable --log-level=warn \
    >"$STATE_DIR/ferretdb.log" 2>&1 &
  echo $! >"$STATE_DIR/ferretdb.pid"
  for _ in $(seq 1 100); do ping && break; sleep 0.2; done
  if ! ping; then
    echo "FerretDB did not answer a ping on 127.0.0.1:$PORT; its log ($STATE_DIR/ferretdb.log):" >&2
    tail -n 30 "$STATE_DIR/ferretdb.log" >&2
    exit 1
  fi
  say "FerretDB answers (pid $(cat "$STATE_DIR/ferretdb.pid"), log $STATE_DIR/ferretdb.log)"
fi

echo "mongodb://127.0.0.1:$PORT/$DATABASE"
