#!/usr/bin/env bash
# The default test suite (CI's command), RUNS times in a row with every core kept busy by a
# competing busy loop, the load under which multi-process tests used to abort. Appends one
# line per run to LOG and stops at the first failing run, copying its output into LOG.
#
#   bash benchmarks/stress_suite.sh [RUNS] [LOG]     # defaults: 5, benchmarks/results/stress_suite.log
#
# Never run it beside other work: it is meant to load the machine.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
log=${2:-benchmarks/results/stress_suite.log}
mkdir -p "$(dirname "$log")"
busy=()
for _ in $(seq "$(nproc)"); do
  python -c "while True: pass" &
  busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
{
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo -dirty)"
  echo "# $(nproc) cores, each with a competing busy loop; $(python -c 'import platform, torch; print(platform.processor() or platform.machine(), "torch", torch.__version__)')"
  echo "# command: pytest -q (the default suite, as .ci/run), $runs consecutive runs"
} >> "$log"
for run in $(seq "$runs"); do
  out=$(mktemp)
  start=$(date +%s)
  pytest -q -p no:cacheprovider > "$out" 2>&1
  status=$?
  echo "run $run: exit $status after $(( $(date +%s) - start )) s: $(tail -n 1 "$out")" >> "$log"
  if [ "$status" -ne 0 ]; then
    { echo "--- output of the failing run:"; cat "$out"; } >> "$log"
    rm -f "$out"
    exit 1
  fi
  rm -f "$out"
done
