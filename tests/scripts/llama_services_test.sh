#!/usr/bin/env bash
# deploy/local/services up-llama in a fresh copy of the project: the server starts on a port of
# its own bound to 127.0.0.1 only, `status` and `env` name it, a second `up-llama` reuses it, a
# request for another port is refused while it runs, `down` stops it (pid and port gone), a held
# port is refused naming the variable that moves it, and a copy with nothing installed says what
# to run. The copy serves this checkout's install (TRIAGE_LLAMA_INSTALL, from `install-deps
# llama`); it stops all it started.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
install=${TRIAGE_LLAMA_INSTALL:-$src/.local/llama}
[ -x "$install/bin/llama-server" ] ||
  { echo "FAIL: no llama-server under $install: run \`deploy/local/install-deps llama\`" >&2; exit 1; }
work=$(mktemp -d)
proj="$work/triage"
mkdir -p "$proj/deploy"
cp -r "$src/deploy/local" "$proj/deploy/"
svc="$proj/deploy/local/services"
# shellcheck source=lib.sh
. "$src/tests/scripts/lib.sh"
unset TRIAGE_LLAMA_URL  # `make test` exports it: here the server is the copy's own

read -r port other < <(free_ports 2)
[ -n "${other:-}" ] || fail "found no free ports"
export TRIAGE_LOCAL_LLAMA_PORT=$port TRIAGE_LLAMA_INSTALL=$install TRIAGE_LOCAL_LLAMA_SLOTS=1
echo "project copy $proj, llama port $port"

holder_pid=
cleanup() {
  local rc=$?
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
  "$svc" down >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

run_svc up-llama || fail "up-llama failed"
grep -q "llama-server up on 127.0.0.1:$port (started" <<<"$out" || fail "up-llama did not start it"
run_svc status || true  # postgres and kafka are not up in the copy: exit 3 is expected
pid=$(field llama pid)
[ -n "$pid" ] || fail "status does not report a running llama-server"
[ "$(field llama port)" = "$port" ] || fail "status does not report port $port"
# Bound to the loopback address only.
listeners=$(ss -tlnH "sport = :$port" | awk '{print $4}')
[ "$listeners" = "127.0.0.1:$port" ] || fail "listens on '$listeners', not only 127.0.0.1:$port"
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || fail "/health does not answer"
run_svc env
grep -qF "export TRIAGE_LLAMA_URL='http://127.0.0.1:$port/v1'" <<<"$out" || fail "env lacks the URL"

run_svc up-llama || fail "second up-llama failed"
grep -q "(reused; pid $pid)" <<<"$out" || fail "second up-llama did not reuse pid $pid"
if TRIAGE_LOCAL_LLAMA_PORT=$other run_svc up-llama; then fail "up-llama moved to port $other"; fi
grep -qF "$port" <<<"$out" || fail "the wrong-port message does not name port $port"

run_svc down || fail "down failed"
! kill -0 "$pid" 2>/dev/null || fail "pid $pid still runs after down"
! listening "$port" || fail "port $port still has a listener after down"
run_svc status || true
grep -q '^llama: down' <<<"$out" || fail "status does not say llama is down after down"

exec {fd}< <(exec python3 -c '
import signal, socket, sys
s = socket.socket()
# The port the stopped server gave up can sit in TIME_WAIT; bind as a server would.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("ready", flush=True); signal.pause()' "$port")
holder_pid=$!
read -r -t 10 -u "$fd" line && [ "$line" = ready ] || fail "could not listen on port $port"
if run_svc up-llama; then fail "up-llama succeeded while port $port was held"; fi
grep -qF "port $port " <<<"$out" || fail "the refusal does not name port $port"
grep -qF TRIAGE_LOCAL_LLAMA_PORT <<<"$out" || fail "the refusal does not name TRIAGE_LOCAL_LLAMA_PORT"
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=

if TRIAGE_LLAMA_INSTALL="$work/nothing" run_svc up-llama; then fail "up-llama ran uninstalled"; fi
grep -qF "install-deps llama" <<<"$out" || fail "the uninstalled message does not say what to run"
echo "PASS: llama-server on 127.0.0.1:$port through up-llama, up-llama, down; refusals by name"
