#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis servers that the service's tests talk to are
# running on this machine: PostgreSQL on 127.0.0.1:5432 (user postgres, database "test",
# no password from localhost) and Redis on 127.0.0.1:6379.
#
# With both up it only checks (well under a second). Otherwise it installs the Debian
# packages that are missing, starts what is stopped and, on a fresh PostgreSQL, creates
# the "test" database and lets local TCP connections in without a password (a test
# machine's setting: do not run this on a server that holds real data). Installing and
# starting need root or password-less sudo.
set -euo pipefail

# Other ports only to try this script out beside servers that are already running.
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/test"
PACKAGES=(postgresql redis-server)

say() { echo "ensure-services: $*"; }

if [ "$(id -u)" -eq 0 ]; then
  as_root=(env)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n env)
else
  as_root=()
fi

need_root() {
  if [ ${#as_root[@]} -eq 0 ]; then
    say "$1 needs root or password-less sudo; run: sudo bash scripts/ensure-services.sh" >&2
    exit 1
  fi
}

postgres_ok() { command -v psql >/dev/null && psql "$PG_URL" -XtAc 'SELECT 1' >/dev/null 2>&1; }
redis_ok() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

if postgres_ok && redis_ok; then
  say "PostgreSQL and Redis are up"
  exit 0
fi

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'; }

install_missing() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null || { say "not a Debian-based system: install ${missing[*]} by hand" >&2; exit 1; }
  need_root "installing ${missing[*]}"
  say "installing ${missing[*]}"
  # Fresh images (Docker, CI) have no package lists yet.
  "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { "${as_root[@]}" apt-get update && "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
}

wait_until() {  # wait_until WHAT COMMAND...: up to 30 s
  local what=$1 tries=0
  shift
  until "$@"; do
    tries=$((tries + 1))
    if [ $tries -ge 150 ]; then say "$what did not come up" >&2; exit 1; fi
    sleep 0.2
  done
}

as_postgres() { "${as_root[@]}" runuser -u postgres -- "$@"; }

cluster_on_port() { pg_lsclusters --no-header 2>/dev/null | awk -v port="$PG_PORT" '$3 == port {print $1, $2, $4; exit}'; }

start_postgres() {
  local version cluster status
  # The cluster that listens on PG_PORT; a fresh install has one, "main", on 5432.
  read -r version cluster status < <(cluster_on_port) || true
  if [ -z "${version:-}" ]; then
    need_root "creating a PostgreSQL cluster"
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    cluster=main
    [ "$PG_PORT" = 5432 ] || cluster="port$PG_PORT"
    say "creating PostgreSQL $version cluster $cluster on port $PG_PORT"
    "${as_root[@]}" pg_createcluster "$version" "$cluster" --port "$PG_PORT" --start
  elif [ "$status" != online ]; then
    need_root "starting PostgreSQL"
    say "starting PostgreSQL $version/$cluster"
    "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  fi
  wait_until PostgreSQL pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
  postgres_ok && return
  need_root "configuring PostgreSQL for the tests"
  if [ "$(as_postgres psql -p "$PG_PORT" -XtAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    say "creating database test"
    as_postgres createdb -p "$PG_PORT" test
  fi
  local hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
  if ! postgres_ok && ! grep -q '^# personacast tests' "$hba"; then
    say "allowing password-less connections from localhost in $hba"
    # pg_hba.conf is read top-down: these lines must come before the distribution's.
    "${as_root[@]}" sed -i '1i # personacast tests: local TCP without a password\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload
  fi
  wait_until "PostgreSQL (as postgres@127.0.0.1/test)" postgres_ok
}

start_redis() {
  need_root "starting Redis"
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  local dir=/var/lib/redis
  [ -d "$dir" ] || dir=/tmp
  # No persistence: the tests' Redis holds nothing worth keeping.
  "${as_root[@]}" redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/personacast-tests-redis.log"
  wait_until Redis redis_ok
}

install_missing
postgres_ok || start_postgres
redis_ok || start_redis
say "PostgreSQL and Redis are up"
