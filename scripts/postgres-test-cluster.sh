#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own temp dir, its own port, trust auth on
# 127.0.0.1 only, gone when stopped. Nothing of a system-wide PostgreSQL is used or changed.
#
#   eval "$(scripts/postgres-test-cluster.sh start [PORT])"   # exports TABGRID_TEST_DATABASE_URL
#                                       (PORT: default 55432, or a free one when it is taken)
#   npm test
#   scripts/postgres-test-cluster.sh stop "$TABGRID_TEST_PG_DIR"
#
# Needs PostgreSQL's server binaries (Debian: sudo apt-get install -y postgresql); PG_BIN
# overrides where they are looked for. As root, the cluster runs as the `postgres` user
# (PostgreSQL refuses to run as root).
set -euo pipefail

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if command -v pg_config > /dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  echo "No PostgreSQL server binaries (initdb) found: install them (Debian: sudo apt-get install -y postgresql) or set PG_BIN to their directory." >&2
  exit 1
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# PORT if given; else 55432 when free, else any free port (a CI run beside a developer's cluster).
pick_port() {
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  node -e "
    const net = require('node:net');
    const tryPort = (port, next) => {
      const s = net.createServer();
      s.once('error', next);
      s.listen(port, '127.0.0.1', () => { const p = s.address().port; s.close(() => console.log(p)); });
    };
    tryPort(55432, () => tryPort(0, (err) => { console.error(err.message); process.exit(1); }));
  "
}

start() {
  local port bin dir
  port=$(pick_port "${1:-}")
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tabgrid-pg.XXXXXX")
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  # stdout carries only the exports (it is eval'd): everything else goes to stderr or the log.
  as_owner "$bin/initdb" -D "$dir/data" -U tabgrid -A trust -E UTF8 --locale=C --no-sync \
    > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # fsync off: a test cluster never outlives a crash, and the tests commit thousands of times.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start > /dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "export TABGRID_TEST_DATABASE_URL=postgresql://tabgrid@127.0.0.1:$port/postgres"
  echo "export TABGRID_TEST_PG_DIR=$dir"
}

stop() {
  local dir=${1:?usage: $0 stop DIR (the TABGRID_TEST_PG_DIR that start printed)}
  local bin
  bin=$(find_bin)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
