#!/usr/bin/env bash
# Regenerate requirements.lock from a fresh resolve of pyproject's dependencies (runtime, test, dev).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip
"$tmp/venv/bin/pip" install -q hatchling editables ".[test,dev]"
{ echo "# Exact versions for a reproducible environment; regenerate with scripts/lock.sh"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^regcopy' ; } > requirements.lock
echo "wrote requirements.lock"
