#!/usr/bin/env bash
# deploy/local/services in a fresh copy of the project, the way a new user meets it: `up` twice,
# `down`, `up` again, `status` after each — every step succeeds and names the same PostgreSQL
# cluster; `up` refuses a port that something else holds, naming the port and the variable that
# moves it. It starts a real PostgreSQL and Kafka on ports of its own and stops all it started.
# The Kafka jars come from this checkout's .local/kafka/libs when `services up` fetched them there
# (TRIAGE_KAFKA_LIBS), else the copy fetches them itself.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"  # a usual checkout is traversable by the `postgres` user
proj="$work/triage"
mkdir -p "$proj/deploy"
cp -r "$src/deploy/local" "$proj/deploy/"  # all the script reads; no .local/ yet, as in a clone
svc="$proj/deploy/local/services"
# shellcheck source=lib.sh
. "$src/tests/scripts/lib.sh"
unset TRIAGE_PG_DSN TRIAGE_KAFKA_BROKERS  # `make test` exports these: here the services are local
if [ -f "$src/.local/kafka/libs/.complete" ]; then export TRIAGE_KAFKA_LIBS="$src/.local/kafka/libs"; fi

# Free ports on 127.0.0.1, never the defaults a main checkout uses: PostgreSQL, Kafka (and its
# controller on the next port), and one more for a wrong-port request.
read -r pg_port kafka_port other_port < <(free_ports 3)
[ -n "${other_port:-}" ] || fail "found no free ports"
export TRIAGE_LOCAL_PG_PORT=$pg_port TRIAGE_LOCAL_KAFKA_PORT=$kafka_port
echo "project copy $proj, postgres port $pg_port, kafka port $kafka_port"

pg_bin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
holder_pid=
data_dirs=()
cleanup() {
  local rc=$?
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
  "$svc" down >/dev/null 2>&1 || true
  # A script that lost track of its cluster (the defect this test guards against) leaves it
  # running: stop the PostgreSQL on our port if its data dir is one this copy made.
  local d
  d=$(PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$pg_port user=triage dbname=postgres" \
        -tAc 'SHOW data_directory' 2>/dev/null) || d=
  [ -n "$d" ] && data_dirs+=("$d")
  for d in "${data_dirs[@]}"; do
    case "$d" in
      "$proj"/* | /var/tmp/triage-pg-*)
        as_pg "$pg_bin/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
        [ "${d#"$proj"/}" = "$d" ] && rm -rf "$d" ;;
    esac
  done
  local pid
  pid=$(cat "$proj/.local/kafka/kafka.pid" 2>/dev/null) || pid=
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$proj/"; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# expect_up: `status` reports both services up on our ports; sets pg_data, pg_pid, kafka_pid.
expect_up() {
  run_svc status || fail "status after $1 exited non-zero"
  pg_data=$(field postgres data) pg_pid=$(field postgres pid) kafka_pid=$(field kafka pid)
  [ -n "$pg_data" ] && [ -n "$pg_pid" ] || fail "status after $1 does not report a running cluster"
  [ -n "$kafka_pid" ] || fail "status after $1 does not report a running kafka"
  [ "$(field postgres port)" = "$pg_port" ] || fail "postgres is not on port $pg_port after $1"
  [ "$(field kafka port)" = "$kafka_port" ] || fail "kafka is not on port $kafka_port after $1"
  data_dirs+=("$pg_data")
}
expect_down() {
  local rc=0
  run_svc status || rc=$?
  [ "$rc" -eq 3 ] || fail "status after $1 exited $rc, not 3 (stopped)"
  grep -q '^postgres: down' <<<"$out" || fail "postgres still up after $1"
  grep -q '^kafka: down' <<<"$out" || fail "kafka still up after $1"
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# hold_port PORT: a listener that is not ours holds 127.0.0.1:PORT until release_port.
hold_port() {
  local fd line
  exec {fd}< <(exec python3 -c '
import signal, socket, sys
s = socket.socket()
# A port just given up by the stopped PostgreSQL can sit in TIME_WAIT; bind as a server would.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("ready", flush=True); signal.pause()' "$1")
  holder_pid=$!
  read -r -t 10 -u "$fd" line && [ "$line" = ready ] || fail "could not listen on port $1"
}
release_port() { kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=; }
# expect_refused PORT VARIABLE: `up` fails, says which port, what holds it and what moves it.
expect_refused() {
  if run_svc up; then fail "up succeeded while port $1 was held"; fi
  grep -qF "port $1 " <<<"$out" || fail "up's message does not name port $1"
  grep -qF "$2" <<<"$out" || fail "up's message does not name $2"
  if command -v ss >/dev/null; then
    grep -q python3 <<<"$out" || fail "up's message does not name the holder (python3)"
  fi
}

run_svc up || fail "first up failed"
expect_up "the first up"
first_data=$pg_data first_pg_pid=$pg_pid first_kafka_pid=$kafka_pid

run_svc up || fail "second up failed"
expect_up "the second up"
[ "$pg_data" = "$first_data" ] || fail "second up reports cluster $pg_data, first $first_data"
[ "$pg_pid" = "$first_pg_pid" ] || fail "second up restarted postgres instead of reusing it"
[ "$kafka_pid" = "$first_kafka_pid" ] || fail "second up restarted kafka instead of reusing it"

# The running cluster is not moved silently to a port asked for later.
if TRIAGE_LOCAL_PG_PORT=$other_port run_svc up; then fail "up moved to port $other_port"; fi
grep -qF "$pg_port" <<<"$out" || fail "the wrong-port message does not name port $pg_port"

run_svc down || fail "down failed"
expect_down "down"
for pid in "$first_pg_pid" "$first_kafka_pid"; do
  ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still runs after down"
done
for port in "$pg_port" "$kafka_port" $((kafka_port + 1)); do
  ! listening "$port" || fail "port $port still has a listener after down"
done

run_svc up || fail "up after down failed"
expect_up "up after down"
[ "$pg_data" = "$first_data" ] || fail "up after down reports cluster $pg_data, first $first_data"
run_svc down || fail "second down failed"
expect_down "the second down"

hold_port "$pg_port"
expect_refused "$pg_port" TRIAGE_LOCAL_PG_PORT
release_port
expect_down "up refused the postgres port"
hold_port "$kafka_port"
expect_refused "$kafka_port" TRIAGE_LOCAL_KAFKA_PORT
release_port
expect_down "up refused the kafka port"
echo "PASS: one cluster ($first_data) through up, up, down, up; held ports refused by name"
