#!/usr/bin/env bash
# Installs Hugging Face's Math-Verify (PyPI `math-verify`) into a venv under the project's
# .local/ so bench_verify can time it next to our verifier. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${root}/.local/math-verify-venv"
if [ ! -x "${venv}/bin/python" ]; then
  python3 -m venv "${venv}"
fi
if ! "${venv}/bin/python" -c 'import math_verify' 2>/dev/null; then
  "${venv}/bin/pip" install --quiet --disable-pip-version-check math-verify
fi
echo "${venv}/bin/python"
