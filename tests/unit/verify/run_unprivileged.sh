#!/bin/sh
# Runs a test binary as an unprivileged user, so that the sandbox's path without root is tested
# even when ctest runs as root (as in CI). As root: drops to nobody:nogroup with setpriv, running
# a copy of the binary in a fresh temp dir, as the build tree may not be traversable by nobody.
# As anyone else: runs the binary as it is. Fails if the drop did not happen.
set -eu
binary=$1
shift
if [ "$(id -u)" != 0 ]; then
  exec "$binary" "$@"
fi
dir=$(mktemp -d /tmp/triage-unprivileged-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp "$binary" "$dir/test"
chmod 755 "$dir" "$dir/test"
cd "$dir"
drop="setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all"
if [ "$($drop id -u)" = 0 ]; then
  echo "run_unprivileged.sh: setpriv did not drop root" >&2
  exit 1
fi
$drop "$dir/test" "$@"
