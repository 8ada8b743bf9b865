#!/usr/bin/env bash
# Runs a command with the real servers the integration tests and benchmarks
# need (a private PostgreSQL 15 with wal_level=logical), exporting their
# endpoints (SLUICE_TEST_PG_DSN), then stops them and exits with the
# command's status.
#
#   internal/testenv/with-servers.sh go test -tags integration ./...
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/sluice-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
	"$here/postgres.sh" stop "$dir/pg"
	rm -rf "$dir"
}
trap cleanup EXIT
if ! SLUICE_TEST_PG_DSN=$("$here/postgres.sh" start "$dir/pg"); then
	echo "with-servers.sh: could not start PostgreSQL:" >&2
	cat "$dir/pg/initdb.log" "$dir/pg/log" 2>/dev/null >&2
	exit 1
fi
export SLUICE_TEST_PG_DSN
echo "PostgreSQL for the tests: $SLUICE_TEST_PG_DSN"
"$@"
