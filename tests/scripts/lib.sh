# Helpers the shell tests of deploy/local/services and the chaos run share (sourced; run_svc
# calls $svc, the services script of their project copy).

fail() { echo "FAIL: $*" >&2; exit 1; }

# free_ports N: N distinct ports free on 127.0.0.1, on one line, each with the next one free too
# (Kafka's controller takes port + 1), none of the defaults a main checkout uses. Below the
# kernel's ephemeral range: a service restarted mid-test binds its port again, and a client
# connection may meanwhile hold a port from that range as its own ("address already in use").
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
top = max(low, 20100)
count = int(sys.argv[1])
for _ in range(500):
    ports = [random.randrange(20000, top - 1) for _ in range(count)]
    taken = set(ports) | {p + 1 for p in ports}
    defaults = {54329, 19092, 19093, 18080, 18081, 8080}
    if len(taken) == 2 * count and not taken & defaults and all(map(free, taken)):
        print(*ports)
        break
PY
}

# run_svc CMD...: runs the services script, its output in $out, its exit status returned.
out=
run_svc() {
  local rc=0 start=$SECONDS
  out=$("$svc" "$@" 2>&1) || rc=$?
  printf '$ services %s  (exit %d, %d s)\n%s\n' "$*" "$rc" $((SECONDS - start)) "$out"
  return "$rc"
}

# field SERVICE KEY: KEY's value in SERVICE's "up (...)" line of $out.
field() { sed -n "s/^$1: up (.*$2 \([^,)]*\).*/\1/p" <<<"$out"; }
