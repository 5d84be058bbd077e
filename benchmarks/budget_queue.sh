#!/usr/bin/env bash
# Run the CIFAR-10 budget benchmark step by step, one run at a time, committing each
# JSON row as soon as it exists (so a long queue survives interruptions). Steps whose
# row already exists are skipped.
#   nohup bash benchmarks/budget_queue.sh /path/to/runs > budget.log 2>&1 &
# To keep developing while it runs, run it from a pinned worktree and write the rows
# into the main checkout:
#   git worktree add --detach ../bench HEAD
#   PYTHONPATH=../bench/src INFOSSL_RESULTS_DIR=$PWD/benchmarks/results nohup bash ../bench/benchmarks/budget_queue.sh RUNS &
set -uo pipefail
cd "$(dirname "$0")"
RUNS=${1:-../runs/budget}
RESULTS=${INFOSSL_RESULTS_DIR:-$PWD/results}
export INFOSSL_RESULTS_DIR=$RESULTS
METHODS="imsvd emi entrec entrec_byol simclr byol barlow vicreg"

commit_rows() {
  local msg=$1
  for attempt in 1 2 3 4 5; do
    local dirs
    dirs=$(cd "$RESULTS" && ls -d cifar10_budget cifar10_budget_tuning 2>/dev/null)
    (cd "$RESULTS" && git add $dirs && git commit -q -m "$msg" -- $dirs) && return 0
    sleep 5
  done
}

wait_if_paused() {  # touch RESULTS/PAUSE to hold the queue between runs (for a quiet machine)
  while [ -f "$RESULTS/PAUSE" ]; do sleep 20; done
}

for m in $METHODS; do
  [ -f "$RESULTS/cifar10_budget_tuning/${m}_trial3.json" ] && continue
  wait_if_paused
  python cifar10_budget.py --tune "$m" --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: tuning trials for $m (measured)"
done
for m in $METHODS; do
  [ -f "$RESULTS/cifar10_budget/${m}_seed0.json" ] && continue
  wait_if_paused
  python cifar10_budget.py --method "$m" --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: $m, 10 minutes (measured)"
done
[ -f $RESULTS/cifar10_budget/random_init.json ] || { python cifar10_budget.py --reference random --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: random-init reference"; }
[ -f $RESULTS/cifar10_budget/supervised_seed0.json ] || { python cifar10_budget.py --reference supervised --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: supervised reference"; }
