#!/usr/bin/env bash
# Set everything up (scripts/setup.sh plus the plotting packages), then run the benchmark harness.
#   bash scripts/bench.sh run                      # every contender on shared, many, index
#   bash scripts/bench.sh run --link 20            # with 20 ms added each way
#   bash scripts/bench.sh tune --plot docs/benchmarks/tune.png
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
stamp=.venv/.regcopy-bench-lock
if [ ! -f "$stamp" ] || ! cmp -s requirements-bench.lock "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-bench.lock
  cp requirements-bench.lock "$stamp"
fi
exec .venv/bin/python -m benchmarks "$@"
