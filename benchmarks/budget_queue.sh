#!/usr/bin/env bash
# Run the CIFAR-10 budget benchmark step by step, one run at a time, committing each
# JSON row as soon as it exists (so a long queue survives interruptions). Steps whose
# row is already committed are skipped.
#   nohup bash benchmarks/budget_queue.sh /path/to/runs > budget.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")"
RUNS=${1:-../runs/budget}
METHODS="imsvd emi entrec entrec_byol simclr byol barlow vicreg"

commit_rows() {
  local msg=$1
  for attempt in 1 2 3 4 5; do
    git add results/cifar10_budget results/cifar10_budget_tuning 2>/dev/null
    if git commit -q -m "$msg" -- results/cifar10_budget results/cifar10_budget_tuning; then return 0; fi
    sleep 5
  done
}

for m in $METHODS; do
  [ -f "results/cifar10_budget_tuning/${m}_trial3.json" ] && continue
  python cifar10_budget.py --tune "$m" --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: tuning trials for $m (measured)"
done
for m in $METHODS; do
  [ -f "results/cifar10_budget/${m}_seed0.json" ] && continue
  python cifar10_budget.py --method "$m" --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: $m, 10 minutes (measured)"
done
[ -f results/cifar10_budget/random_init.json ] || { python cifar10_budget.py --reference random --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: random-init reference"; }
[ -f results/cifar10_budget/supervised_seed0.json ] || { python cifar10_budget.py --reference supervised --runs "$RUNS" && commit_rows "CIFAR-10 budget benchmark: supervised reference"; }
