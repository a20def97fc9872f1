# shellcheck shell=bash
# PostgreSQL helpers for ./platform: find or install the server binaries, create a
# cluster in a folder, start/stop it on loopback, and create the roles and database.

pg_log() { printf '[platform] %s\n' "$*" >&2; }

# Prints the bin folder of the newest installed PostgreSQL server, installing Debian's package if none is.
pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    pg_log "PostgreSQL server binaries not found; installing the Debian package postgresql-15"
    if [[ $(id -u) -ne 0 ]]; then
      pg_log "need root to apt-get install postgresql-15 (or install it yourself)"; return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  printf '%s\n' "$dir"
}

# Runs a command as the cluster's system user: postgres when we are root (initdb refuses root), else ourselves.
pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Tells whether a TCP socket of this machine holds port $1: a listener, or a connection's own end. A port of the ephemeral range can be a
# client's local end, which a connect test does not see and on which PostgreSQL's bind then fails ("Address already in use"); the kernel's
# socket tables show both. Without them (no /proc), a connect test.
pg_port_used() {
  local hex files=()
  hex=$(printf ':%04X' "$1")
  [[ -r /proc/net/tcp ]] && files+=(/proc/net/tcp)
  [[ -r /proc/net/tcp6 ]] && files+=(/proc/net/tcp6)
  if (( ${#files[@]} )); then
    awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' "${files[@]}"
    return
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a free TCP port on 127.0.0.1 at or above $1.
pg_free_port() {
  local port=${1:-55432}
  while pg_port_used "$port"; do port=$((port + 1)); done
  printf '%s\n' "$port"
}

# pg_port_or_free PORT SECRETS_FILE: prints PORT when nothing listens on it, else a free port above it, which it saves as PG_PORT in the
# secrets file (the embedded install's pinned port) and announces, so the next start uses it too.
pg_port_or_free() {
  local port=$1 secrets=$2 free
  if ! pg_port_used "$port"; then printf '%s\n' "$port"; return 0; fi
  free=$(pg_free_port $((port + 1)))
  sed -i "s/^PG_PORT=.*/PG_PORT=$free/" "$secrets"
  pg_log "port $port is taken by another process; PostgreSQL uses port $free from now on (saved in $secrets)"
  printf '%s\n' "$free"
}

# pg_init DIR MODE: creates a cluster in DIR unless one is there. MODE "test" turns durability off.
pg_init() {
  local dir=$1 mode=$2 bin
  bin=$(pg_bindir)
  if [[ -f "$dir/PG_VERSION" ]]; then return 0; fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  if ! pg_as_owner test -w "$dir"; then
    pg_log "the postgres user cannot write $dir; set PLATFORM_DATA_DIR to a folder it can reach"; return 1
  fi
  pg_as_owner "$bin/initdb" -D "$dir" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 300"
    echo "shared_buffers = 256MB"
    if [[ $mode == test ]]; then
      echo "fsync = off"; echo "synchronous_commit = off"; echo "full_page_writes = off"
    fi
  } | pg_as_owner tee -a "$dir/postgresql.conf" >/dev/null
}

# pg_start DIR PORT: starts the cluster unless it runs.
pg_start() {
  local dir=$1 port=$2 extra=${3:-} bin
  bin=$(pg_bindir)
  if pg_as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then return 0; fi
  pg_as_owner "$bin/pg_ctl" -D "$dir" -o "-p $port $extra" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { pg_log "PostgreSQL did not start; its log:"; tail -n 30 "$dir/server.log" >&2; return 1; }
}

# pg_stop DIR: stops the cluster quickly and cleanly (fast mode: rolls back open transactions, checkpoints).
pg_stop() {
  local dir=$1 bin
  bin=$(pg_bindir)
  pg_as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# pg_psql DIR PORT DB [psql args...]: runs psql as the cluster's superuser over the socket.
pg_psql() {
  local dir=$1 port=$2 db=$3; shift 3
  pg_as_owner "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"
}

# pg_bootstrap DIR PORT DB OWNER_PASSWORD APP_PASSWORD ROOT: creates the roles and the database (idempotent).
pg_bootstrap() {
  local dir=$1 port=$2 db=$3 owner_pw=$4 app_pw=$5 root=$6
  pg_psql "$dir" "$port" postgres -v owner_password="$owner_pw" -v app_password="$app_pw" -v dbname="$db" \
    <"$root/db/bootstrap.sql"
}

# pg_test_start DIR DB OWNER_PASSWORD APP_PASSWORD ROOT: creates a throwaway cluster in DIR (durability off), starts it on a
# free loopback port, creates the roles and the database, and prints the port. ./platform test and the test fixture (when
# dotnet test runs without ./platform, through scripts/test-db.sh) both start their database with it.
pg_test_start() {
  local dir=$1 db=$2 owner_pw=$3 app_pw=$4 root=$5 port attempt
  pg_init "$dir" test
  # Another process may take the free port between the check and the bind: try a few random ones.
  for attempt in 1 2 3 4 5; do
    port=$(pg_free_port $((40000 + RANDOM % 20000)))
    if pg_start "$dir" "$port" 2>/dev/null; then break; fi
    [[ $attempt -eq 5 ]] && { pg_log "PostgreSQL did not start on any port"; tail -n 20 "$dir/server.log" >&2; return 1; }
  done
  pg_bootstrap "$dir" "$port" "$db" "$owner_pw" "$app_pw" "$root" >&2
  printf '%s\n' "$port"
}
