#!/usr/bin/env bash
# The chaos run: the real pipeline under faults, then the verdict.
#   tests/chaos/run.sh --small|--full --triage BIN --load BIN --receiver BIN --check BIN
#                      [--report FILE]     (CHAOS_KEEP_LOGS=DIR keeps the logs there)
# A PostgreSQL and a Kafka broker of its own (deploy/local/services in a scratch copy of the
# project, on free ports: never another checkout's services), `triage serve` as separate role
# processes (one api, two routers, two workers, two notifiers), simulated models at a scaled-down
# time, and chaos_receiver as the webhook endpoint. chaos_load submits the jobs (half over HTTP,
# half on Kafka) while the schedule below breaks things; chaos_check then prints the figures and
# fails the run on any loss or double completion. --small (about 1,000 jobs, one of each fault)
# runs under ctest; --full (10,000 jobs) is `make chaos` and writes its report to --report.
# It ends only what it started, by pid; all traffic stays on 127.0.0.1.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
mode= report= triage= load= receiver= check=
while [ $# -gt 0 ]; do
  case "$1" in
    --small | --full) mode=${1#--} ;;
    --triage) triage=$2; shift ;;
    --load) load=$2; shift ;;
    --receiver) receiver=$2; shift ;;
    --check) check=$2; shift ;;
    --report) report=$2; shift ;;
    *) echo "usage: $0 --small|--full --triage BIN --load BIN --receiver BIN --check BIN [--report FILE]" >&2
       exit 2 ;;
  esac
  shift
done
[ -n "$mode" ] && [ -x "$triage" ] && [ -x "$load" ] && [ -x "$receiver" ] && [ -x "$check" ] ||
  { echo "chaos: give --small or --full and the four binaries" >&2; exit 2; }

# Scale. Simulated latencies are the configured ones (standard 0.5-2 s, reasoning 15-120 s)
# times time_scale; model deadlines, leases and the reaper's timing shrink with them.
time_scale=0.02
if [ "$mode" = small ]; then jobs=1000 rate=20; else jobs=10000 rate=25; fi
notifier_lease=65  # notify.timeout_ms (5 s) + the outbox lease's fixed 60 s
webhook_down=60 webhook_500=20 pause=$((notifier_lease + 10))
if [ "$mode" = small ]; then webhook_down=10 webhook_500=5; fi

# The services see only the variables set here (make test exports TRIAGE_PG_DSN and friends,
# which would point the roles at the shared services).
libs=${TRIAGE_KAFKA_LIBS:-}
if [ -z "$libs" ] && [ -f "$src/.local/kafka/libs/.complete" ]; then libs=$src/.local/kafka/libs; fi
for v in $(compgen -e | grep '^TRIAGE_' || true); do
  [ "$v" = TRIAGE_LOG_LEVEL ] || unset "$v"
done
if [ -n "$libs" ]; then export TRIAGE_KAFKA_LIBS=$libs; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/triage-chaos-XXXXXX")
chmod 755 "$work"  # the `postgres` user reaches its data dir under it
proj=$work/triage
mkdir -p "$proj/deploy" "$work/logs"
cp -r "$src/deploy/local" "$proj/deploy/"
svc=$proj/deploy/local/services
logs=$work/logs

# shellcheck source=../scripts/lib.sh
. "$src/tests/scripts/lib.sh"
read -r pg_port kafka_port api_port hook_port < <(free_ports 4)
[ -n "${hook_port:-}" ] || { echo "chaos: found no free ports" >&2; exit 1; }
export TRIAGE_LOCAL_PG_PORT=$pg_port TRIAGE_LOCAL_KAFKA_PORT=$kafka_port
dsn="host=127.0.0.1 port=$pg_port user=triage dbname=triage"
brokers=127.0.0.1:$kafka_port

t0=$(date +%s%3N)
now_ms() { date +%s%3N; }
log() { printf '[%6.1f s] %s\n' "$(( $(now_ms) - t0 ))e-3" "$*"; }
# at SECONDS: waits until that long after the load started.
at() {
  local wait_ms=$(( load_t0 + $1 * 1000 - $(now_ms) ))
  [ "$wait_ms" -le 0 ] || sleep "$(awk -v ms="$wait_ms" 'BEGIN { print ms / 1000 }')"
}
fault() { echo "$1 $2 $(now_ms)" >>"$work/faults"; }  # NAME START_MS: ends now

declare -A pid
load_pid= pause_pid=
cleanup() {
  local rc=$? p
  for p in "${pid[@]}" $load_pid $pause_pid; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${pid[@]}" $load_pid $pause_pid; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  "$svc" down >"$logs/services-down.log" 2>&1 || true
  # CHAOS_KEEP_LOGS=DIR keeps every process's log and the run's records there.
  if [ -n "${CHAOS_KEEP_LOGS:-}" ]; then
    mkdir -p "$CHAOS_KEEP_LOGS" && cp -r "$logs" "$work"/{acks,webhooks,faults} "$CHAOS_KEEP_LOGS/" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "chaos: failed; the end of each process's log:" >&2
    for f in "$logs"/*.log; do echo "--- ${f##*/}" >&2; tail -n 15 "$f" >&2; done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

cat >"$work/triage.toml" <<EOF
[api]
listen = "127.0.0.1:$api_port"
# Several processes on one config: each admin listener on a free port of its own.
[admin]
listen = "127.0.0.1:0"
[shutdown]
drain_seconds = 5
[postgres]
dsn = "$dsn"
pool_size = 4
[kafka]
brokers = "$brokers"
topic_prefix = "chaos"
jobs_partitions = 4
reasoning_partitions = 4
session_timeout_ms = 6000
[sim]
time_scale = $time_scale
[models.sim-standard]
timeout_seconds = 5
[models.sim-reasoning]
timeout_seconds = 20
[reaper]
interval_seconds = 2
grace_seconds = 10
lease_margin_seconds = 5
lease_check_seconds = 2
[notify]
timeout_ms = 5000
EOF

# start NAME ROLES: one `triage serve` process; its log is appended to across restarts.
start() {
  "$triage" --config "$work/triage.toml" serve --roles "$2" >>"$logs/$1.log" 2>&1 &
  pid[$1]=$!
}
# stop_hard NAME: SIGKILL, and reaps it.
stop_hard() { kill -9 "${pid[$1]}"; wait "${pid[$1]}" 2>/dev/null || true; }
open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# await_port PORT WHAT: up to 60 s.
await_port() {
  for _ in $(seq 1 600); do open "$1" && return 0; sleep 0.1; done
  echo "chaos: $2 did not open port $1 in 60 s" >&2; exit 1
}
start_receiver() {
  "$receiver" --port "$hook_port" --log "$work/webhooks" --fail-seconds "$1" \
    >>"$logs/receiver.log" 2>&1 &
  pid[receiver]=$!
  await_port "$hook_port" "the webhook receiver"
}
kafka_pid() { cat "$proj/.local/kafka/kafka.pid"; }
# kafka_restart SIGNAL: the broker stopped by SIGNAL, then started again on its data.
kafka_restart() {
  local start p; start=$(now_ms); p=$(kafka_pid)
  kill "-$1" "$p"
  for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && { echo "chaos: kafka (pid $p) did not stop in 60 s" >&2; exit 1; }
  "$svc" up >>"$logs/services.log" 2>&1
  fault "kafka-restart-$1" "$start"
  log "kafka broker restarted after SIG$1 ($(( $(now_ms) - start )) ms down)"
}
# kill_role NAME ROLES: SIGKILL, then a new process in its place.
kill_role() {
  local start; start=$(now_ms)
  stop_hard "$1"
  start "$1" "$2"
  fault "sigkill-$1" "$start"
  log "$1 SIGKILLed and started again"
}
postgres_restart() {
  local start; start=$(now_ms)
  "$svc" restart-postgres >>"$logs/services.log" 2>&1
  fault postgres-restart-immediate "$start"
  log "postgres restarted (immediate shutdown) in $(( $(now_ms) - start )) ms"
}
webhook_outage() {
  local start; start=$(now_ms)
  stop_hard receiver
  log "webhook receiver down for $webhook_down s"
  sleep "$webhook_down"
  start_receiver "$webhook_500"
  log "webhook receiver up, answering 500 for $webhook_500 s"
  sleep "$webhook_500"
  fault webhook-down-${webhook_down}s-then-500-${webhook_500}s "$start"
}
# The notifier paused past its outbox lease, in the background: the other faults go on.
notifier_pause() {
  local p=${pid[notifier-2]}
  (
    start=$(now_ms)
    kill -STOP "$p"
    sleep "$pause"
    kill -CONT "$p"
    fault "sigstop-notifier-2-${pause}s" "$start"
    log "notifier-2 resumed after $pause s (its lease: $notifier_lease s)"
  ) &
  pause_pid=$!
  log "notifier-2 paused (SIGSTOP) for $pause s"
}

log "chaos run ($mode): $jobs jobs at $rate/s, sim time scale $time_scale"
"$svc" up >"$logs/services.log" 2>&1 || { echo "chaos: services up failed" >&2; exit 1; }
log "postgres on $pg_port, kafka on $kafka_port (services of this run)"
"$triage" --config "$work/triage.toml" migrate >"$logs/migrate.log" 2>&1
start api api
for n in 1 2; do start "router-$n" router; start "worker-$n" worker; start "notifier-$n" notifier; done
start_receiver 0
await_port "$api_port" "the api"

"$load" --api "http://127.0.0.1:$api_port" --brokers "$brokers" --topic chaos.jobs \
  --callback "http://127.0.0.1:$hook_port/hook" --acks "$work/acks" --jobs "$jobs" \
  --rate "$rate" --give-up-seconds 600 >"$logs/load.log" 2>&1 &
load_pid=$!
load_t0=$(now_ms)
log "submitting"

# The fault schedule, in seconds after the load started.
if [ "$mode" = small ]; then
  at 3; notifier_pause
  at 6; kill_role router-1 router
  at 12; kafka_restart KILL
  at 25; postgres_restart
  at 32; webhook_outage
  at 50; kill_role worker-1 worker
else
  at 20; kill_role router-1 router
  at 50; kafka_restart TERM
  at 90; kill_role worker-1 worker
  at 120; postgres_restart
  at 150; webhook_outage
  at 240; notifier_pause
  at 260; kafka_restart KILL
  at 300; kill_role router-2 router
fi
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=
log "$(tail -n 1 "$logs/load.log")"
wait "$pause_pid"
pause_pid=

out=$("$check" --dsn "$dsn" --brokers "$brokers" --completed-topic chaos.completed \
  --acks "$work/acks" --webhooks "$work/webhooks" --faults "$work/faults" \
  --wait-seconds 600 2>&1) && check_rc=0 || check_rc=$?
elapsed=$(( ($(now_ms) - t0) / 1000 ))
echo "$out"
log "run took $elapsed s"

# The report replaces what lies between the markers in --report (the prose around them stays),
# or makes the file.
if [ -n "$report" ]; then
  mem=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  begin='<!-- chaos report: written by `make chaos` -->' finish='<!-- end of the chaos report -->'
  {
    echo "$begin"
    echo "\`make chaos\` on $(date -u +%Y-%m-%d), $(nproc) cores and $mem GiB ($os, shared"
    echo "with other builds): $jobs jobs at $rate/s, half over HTTP, half on Kafka; simulated"
    echo "models at time scale $time_scale. The run took $elapsed s, from the services' start to"
    echo "the verdict."
    echo
    echo "Faults, in the order they came (seconds after the load started):"
    echo
    awk -v t="$load_t0" '{printf "- %s: from %.1f s to %.1f s\n", $1, ($2 - t) / 1000, ($3 - t) / 1000}' \
      "$work/faults"
    echo
    echo '```'
    echo "$out" | grep -v '^chaos_check: waiting'
    echo '```'
    echo "$finish"
  } >"$work/report"
  if [ -f "$report" ] && grep -qF "$begin" "$report" && grep -qF "$finish" "$report"; then
    awk -v b="$begin" -v e="$finish" -v r="$work/report" '
      $0 == b { while ((getline line < r) > 0) print line; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$report" >"$work/report.new"
    mv "$work/report.new" "$report"
  else
    { echo "# Reliability: the chaos run"; echo; cat "$work/report"; } >"$report"
  fi
  log "report written to $report"
fi
[ "$load_rc" -eq 0 ] || { echo "chaos: some jobs were never acknowledged" >&2; exit 1; }
exit "$check_rc"
