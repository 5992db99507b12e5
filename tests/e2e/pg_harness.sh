# PostgreSQL for tests and benchmarks (POSIX sh; source it, do not run it).
#
#   . "$OTF_SOURCE_DIR/tests/e2e/pg_harness.sh"
#   pg_start              # sets PG_DSN (libpq key/value string) and PG_PORT
#   trap 'pg_stop' EXIT   # or call pg_stop from your own cleanup
#   pg_sql "SELECT 1"     # psql -XAt, one value per line, fields split by '|'
#   pg_server_stop / pg_server_start   # restart the server (same data, same port)
#
# Without OTF_TEST_POSTGRES it runs a private server: initdb into a mktemp
# directory, listening on 127.0.0.1 on a free port with its socket inside
# that directory, stopped and deleted by pg_stop. PostgreSQL refuses to run
# as root, so as root the server runs as the system user `otflowtest`
# (created with useradd when missing) through runuser. The server binaries
# come from PG_BIN (default: the newest /usr/lib/postgresql/*/bin).
#
# With OTF_TEST_POSTGRES (a libpq connection string) that server is used as
# is and nothing is started or stopped; tests drop and recreate their own
# tables in it (partial_traces, otflow_partial_schema).
#
# PG_FAST=1 (default) turns off fsync and synchronous commit: tests do not
# need durability. Benchmarks set PG_FAST=0.

pg__bin() {
	if [ -n "${PG_BIN:-}" ]; then
		echo "$PG_BIN"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		[ -x "$d/initdb" ] && echo "$d" && return
	done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return
	echo ""
}

# A free port reserved for this shell until pg_stop (tests/e2e/free_port.py:
# the port stays free while the server is down for a restart).
PG__HERE=${OTF_SOURCE_DIR:-.}/tests/e2e
pg__free_port() {
	python3 "$PG__HERE/free_port.py" $$
}

# Runs a command as the server's owner.
pg__as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u otflowtest -- "$@"
	else
		"$@"
	fi
}

pg_server_start() {
	[ -n "${PG_EXTERNAL:-}" ] && return 0
	opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/sock -c max_connections=200"
	if [ "${PG_FAST:-1}" = 1 ]; then
		opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "$opts" start >/dev/null || {
		echo "pg_harness: server did not start:" >&2
		cat "$PG_DIR/server.log" >&2
		return 1
	}
}

pg_server_stop() {
	[ -n "${PG_EXTERNAL:-}" ] && return 0
	pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1
}

pg_start() {
	if [ -n "${OTF_TEST_POSTGRES:-}" ]; then
		PG_EXTERNAL=1
		PG_DSN=$OTF_TEST_POSTGRES
		PG_PORT=""
		return 0
	fi
	PG_BINDIR=$(pg__bin)
	if [ -z "$PG_BINDIR" ]; then
		echo "pg_harness: no PostgreSQL server binaries (install postgresql: make deps)" >&2
		return 1
	fi
	if [ "$(id -u)" -eq 0 ] && ! id otflowtest >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin otflowtest 2>/dev/null ||
			id otflowtest >/dev/null 2>&1 || {
			echo "pg_harness: cannot create user otflowtest" >&2
			return 1
		}
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/otflow-pg.XXXXXX")
	mkdir -p "$PG_DIR/sock"
	[ "$(id -u)" -eq 0 ] && chown -R otflowtest "$PG_DIR"
	chmod 0755 "$PG_DIR"
	pg__as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		echo "pg_harness: initdb failed:" >&2
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	# A port taken between its choice and the server's bind: another one.
	for pg__try in 1 2 3; do
		PG_PORT=$(pg__free_port)
		pg_server_start 2>"$PG_DIR/start.err" && break
		if [ $pg__try = 3 ] || ! grep -q "already in use" "$PG_DIR/server.log"; then
			cat "$PG_DIR/start.err" >&2
			return 1
		fi
		: >"$PG_DIR/server.log"
	done
	PG_DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres connect_timeout=5"
	export PG_DSN PG_PORT PG_DIR PG_BINDIR
}

pg_stop() {
	if [ -z "${PG_EXTERNAL:-}" ] && [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
		pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
		rm -rf "$PG_DIR"
		python3 "$PG__HERE/free_port.py" --release $$ 2>/dev/null
	fi
	PG_DIR=""
}

pg_sql() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$PG_DSN" -c "$1"
}

# Drops the partial spans tables (fresh state for a test).
pg_reset_partial() {
	pg_sql "DROP TABLE IF EXISTS partial_traces; DROP TABLE IF EXISTS otflow_partial_schema;"
}
