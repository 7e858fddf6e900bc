#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run a rehearsal between local registries.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/rehearsal.py "$@"
