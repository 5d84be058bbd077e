#!/usr/bin/env bash
# Run the CIFAR-10 budget benchmark step by step, one run at a time, committing each
# JSON row as soon as it exists (so a long queue survives interruptions). A step whose
# row already exists is skipped, so rerunning the queue continues where it stopped.
#   nohup bash benchmarks/budget_queue.sh /path/to/runs > budget.log 2>&1 &
# To keep developing while it runs, run it from a pinned worktree and write the rows
# into the main checkout:
#   git worktree add --detach ../bench HEAD
#   PYTHONPATH=../bench/src INFOSSL_RESULTS_DIR=$PWD/benchmarks/results nohup bash ../bench/benchmarks/budget_queue.sh RUNS &
# touch RESULTS/PAUSE to hold the queue between runs (to take timings or run tests on a
# quiet machine); remove it to continue.
# Order: per method, its three tuning trials then its 10-minute row, with the one-factor
# studies after the method they study; the references; a second seed of the two best
# methods; the batch-size table (fixed epochs).
set -uo pipefail
cd "$(dirname "$0")"
RUNS=${1:-../runs/budget}
RESULTS=${INFOSSL_RESULTS_DIR:-$PWD/results}
export INFOSSL_RESULTS_DIR=$RESULTS
BATCH_TABLE_EPOCHS=${BATCH_TABLE_EPOCHS:-1}

commit_rows() {
  local msg=$1
  for attempt in 1 2 3 4 5; do
    local dirs
    dirs=$(cd "$RESULTS" && ls -d cifar10_budget cifar10_budget_tuning cifar10_budget_study cifar10_epochs 2>/dev/null)
    (cd "$RESULTS" && git add $dirs && git commit -q -m "$msg" -- $dirs) && return 0
    sleep 5
  done
}

# step ROW MESSAGE ARGS...: run `cifar10_budget.py ARGS` unless RESULTS/ROW exists.
step() {
  local row=$1 msg=$2
  shift 2
  [ -f "$RESULTS/$row" ] && return 0
  while [ -f "$RESULTS/PAUSE" ]; do sleep 20; done
  echo "== $(date -u '+%F %T') $*"
  python cifar10_budget.py "$@" --runs "$RUNS" && commit_rows "$msg"
}

# method M: its three tuning trials, then its 10-minute row (rerun when out of date)
method() {
  step "cifar10_budget_tuning/${1}_trial3.json" "CIFAR-10 budget benchmark: tuning trials for $1 (measured)" --tune "$1"
  local stale
  stale=$(python cifar10_budget.py --stale "$1")
  for row in $stale; do
    echo "== $row is out of date (other settings than $1's best trial, or not evaluated at its final step): rerunning it"
    (cd "$RESULTS" && git rm -q "$row")
  done
  step "cifar10_budget/${1}_seed0.json" "CIFAR-10 budget benchmark: $1, 10 minutes (measured)" --method "$1"
}
# one-factor variants at the proxy budget (what limits IMSVD, EMI and EntRec here); ROW is the last variant's
study() {
  step "cifar10_budget_study/$2" "CIFAR-10 budget study: $1 variants (measured)" --study "$1"
}

method simclr
method entrec
method byol
study imsvd imsvd_crop_008-1.json
study emi emi_invariance_weight_1.json
study entrec entrec_D_128.json
study simclr simclr_baseline.json
method entrec_byol
method barlow
method vicreg
method emi
method imsvd
step cifar10_budget/random_init.json "CIFAR-10 budget benchmark: random-init reference" --reference random
step cifar10_budget/supervised_seed0.json "CIFAR-10 budget benchmark: supervised reference" --reference supervised

# a second seed for the two methods with the best linear probe among the seed-0 rows
for m in $(python cifar10_budget.py --best 2); do
  step "cifar10_budget/${m}_seed1.json" "CIFAR-10 budget benchmark: $m, seed 1 (measured)" --method "$m" --seed 1
done

for m in entrec simclr byol; do
  for b in 256 128 64; do
    step "cifar10_epochs/${m}_b${b}_e${BATCH_TABLE_EPOCHS}.json" "CIFAR-10 batch-size table: $m at batch $b (measured)" \
      --method "$m" --batch-size "$b" --epochs "$BATCH_TABLE_EPOCHS"
  done
done
