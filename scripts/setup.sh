#!/usr/bin/env bash
# Set up everything regcopy's tests, benchmarks and rehearsal need on a Debian machine:
# system packages (docker-registry, skopeo; installed when running as root), a virtualenv
# in .venv with the exact versions from requirements.lock, and regcopy itself (editable).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)  # network namespaces in tests
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.regcopy-lock
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  cp requirements.lock "$stamp"
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
# Byte-compile regcopy's own modules: an editable install does not, and where
# PYTHONDONTWRITEBYTECODE is set every start would compile them again.
.venv/bin/python -m compileall -q src >/dev/null
