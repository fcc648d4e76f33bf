#!/usr/bin/env bash
# Start a real RabbitMQ for the test suite: a node of its own (own node name on localhost, own
# Mnesia, log and cookie under a fresh state directory), listening on loopback only, so that no
# state the machine's packaged node left behind can hold it up. Idempotent: reuses a broker that
# already answers on the port (the machine's own node, or this script's from an earlier run).
# Bounded: each attempt waits at most RABBITMQ_START_SECONDS for the node to boot; a node that
# exits or hangs is killed, its log printed, and started once more from an empty directory.
# Progress goes to stderr; the last line on stdout is the URL to export:
#
#   RABBITMQ_URL=$(.ci/start-rabbitmq.sh | tail -n1)
#
# Variables: RABBITMQ_PORT (5672), RABBITMQ_STATE_DIR (/tmp/fabrikam-rabbitmq-<port>),
# RABBITMQ_USER / RABBITMQ_PASSWORD (fabrikam / fabrikam-ci: a throwaway loopback broker),
# RABBITMQ_START_SECONDS (180).
set -euo pipefail

PORT=${RABBITMQ_PORT:-5672}
STATE_DIR=${RABBITMQ_STATE_DIR:-/tmp/fabrikam-rabbitmq-$PORT}
USER_NAME=${RABBITMQ_USER:-fabrikam}
PASSWORD=${RABBITMQ_PASSWORD:-fabrikam-ci}
START_SECONDS=${RABBITMQ_START_SECONDS:-180}
SBIN=/usr/lib/rabbitmq/bin
NODE=fabrikam-ci-$PORT@localhost

say() { printf '    %s\n' "$*" >&2; }

[ -x "$SBIN/rabbitmq-server" ] || {
  echo "RabbitMQ is not installed: apt-get install rabbitmq-server" >&2
  exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# rabbitmqctl against this script's node: its cookie lives in the state directory's HOME.
ctl() { HOME="$STATE_DIR" timeout 60 "$SBIN/rabbitmqctl" -n "$NODE" -q "$@"; }

# The machine's packaged node, if it is the one on the port (the packaged wrapper runs as the
# rabbitmq user with its own cookie).
system_ctl() { timeout 60 rabbitmqctl -q "$@"; }

start_node() {
  rm -rf "$STATE_DIR"
  mkdir -p "$STATE_DIR"
  echo "[]." >"$STATE_DIR/enabled_plugins"
  say "starting RabbitMQ node $NODE on 127.0.0.1:$PORT (state and log in $STATE_DIR)"
  # run from the state directory: the VM writes its crash dumps (erl_crash.dump, MnesiaCore.*)
  # into its working directory, which would otherwise be the checkout
  (cd "$STATE_DIR" && exec env HOME="$STATE_DIR" \
    ERL_CRASH_DUMP="$STATE_DIR/erl_crash.dump" \
    RABBITMQ_NODENAME="$NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$PORT" \
    RABBITMQ_DIST_PORT="$(free_port)" \
    RABBITMQ_MNESIA_BASE="$STATE_DIR/mnesia" \
    RABBITMQ_LOG_BASE="$STATE_DIR/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins" \
    RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$STATE_DIR/none" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/none.config" \
    RABBITMQ_CONF_ENV_FILE="$STATE_DIR/none-env.conf" \
    nohup "$SBIN/rabbitmq-server") >"$STATE_DIR/server.log" 2>&1 &
  echo $! >"$STATE_DIR/server.pid"
  disown
}

# Waits for the node to finish booting; fails early if its process exits.
await_node() {
  local pid deadline
  pid=$(cat "$STATE_DIR/server.pid")
  deadline=$((SECONDS + START_SECONDS))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { say "the RabbitMQ node exited while booting"; return 1; }
    # await_startup needs the node registered with epmd first, which takes the VM a few seconds
    ctl await_startup --timeout 5 >/dev/null 2>&1 && return 0
    sleep 1
  done
  say "the RabbitMQ node did not finish booting within ${START_SECONDS} s"
  return 1
}

stop_node() {
  local pid
  pid=$(cat "$STATE_DIR/server.pid" 2>/dev/null || true)
  say "its output and log (tail):"
  tail -n 40 "$STATE_DIR/server.log" "$STATE_DIR"/log/*.log 2>/dev/null | sed 's/^/      /' >&2 || true
  if [ -n "$pid" ]; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # the Erlang VM (beam.smp), should it outlive the wrapper: its arguments name its HOME
  pkill -KILL -f -- "-home $STATE_DIR( |\$)" 2>/dev/null || true
}

if listening; then
  if ctl await_startup --timeout 5 >/dev/null 2>&1; then
    use_ctl=ctl
    say "reusing RabbitMQ node $NODE on 127.0.0.1:$PORT"
  elif timeout 60 rabbitmq-diagnostics -q check_port_listener "$PORT" >/dev/null 2>&1; then
    use_ctl=system_ctl
    say "reusing the machine's RabbitMQ on 127.0.0.1:$PORT"
  else
    # e.g. a packaged node its installer started that hangs while booting: leave it be
    PORT=$(free_port)
    say "something listens on the port but no RabbitMQ node answers rabbitmqctl; using port $PORT"
    STATE_DIR=${RABBITMQ_STATE_DIR:-/tmp/fabrikam-rabbitmq-$PORT}
    NODE=fabrikam-ci-$PORT@localhost
    use_ctl=
  fi
fi
if [ -z "${use_ctl:-}" ]; then
  use_ctl=ctl
  started=false
  for attempt in 1 2; do
    start_node
    if await_node; then
      started=true
      break
    fi
    stop_node
    [ "$attempt" = 1 ] && say "starting it once more, from an empty state directory"
  done
  $started || {
    echo "RabbitMQ did not start twice; its log is above and in $STATE_DIR" >&2
    exit 1
  }
  say "RabbitMQ node $NODE is up (pid $(cat "$STATE_DIR/server.pid"))"
fi

$use_ctl list_users | grep -q "^$USER_NAME\b" \
  || { $use_ctl add_user "$USER_NAME" "$PASSWORD" >/dev/null \
       && $use_ctl set_permissions -p / "$USER_NAME" '.*' '.*' '.*' >/dev/null; }

echo "amqp://$USER_NAME:$PASSWORD@127.0.0.1:$PORT//"
