#!/usr/bin/env bash
# Starts or stops a private PostgreSQL 15 cluster for the integration tests
# (wal_level=logical, trust auth on 127.0.0.1, a free port), as
# ../shared/testenv.md describes. `start` prints the DSN to use as
# SLUICE_TEST_PG_DSN; `stop` stops the cluster started in DIR.
#
#   internal/testenv/postgres.sh start DIR   # prints postgres://postgres@127.0.0.1:PORT/postgres
#   internal/testenv/postgres.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "postgres.sh: no PostgreSQL server installed (apt-get install postgresql-15)" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses='127.0.0.1'
port=$port
unix_socket_directories='$dir'
wal_level=logical
max_replication_slots=40
max_wal_senders=40
max_connections=200
fsync=off
synchronous_commit=off
full_page_writes=off
CONF
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
	echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	;;
stop)
	[ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: postgres.sh start|stop DIR" >&2
	exit 2
	;;
esac
