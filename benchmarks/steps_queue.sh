#!/usr/bin/env bash
# The recipes plan at equal work, one run at a time, committing each JSON row as soon as it
# exists; a row that exists is skipped, so rerunning the queue continues where it stopped.
#   nohup bash benchmarks/steps_queue.sh [RUNS] > steps_queue.log 2>&1 &
# To keep developing while it runs, run it from a pinned worktree and write the rows into
# the main checkout:
#   git worktree add --detach ../bench HEAD
#   PYTHONPATH=$(realpath ../bench/src) INFOSSL_RESULTS_DIR=$PWD/benchmarks/results nohup bash ../bench/benchmarks/steps_queue.sh &
# (an absolute PYTHONPATH: the queue runs from its own benchmarks folder)
# touch RESULTS/PAUSE to hold the queue between runs (to run the tests on a quiet machine);
# remove it to continue. STAGES (default "first search confirm") picks what to run; "table" runs the
# final table with the shipped recipes, so run it once the search winners are shipped;
# "information" screens the information objectives' directions from their search winners (screen.py
# --from-trial), with as many screens for SimCLR and VICReg;
# "fixed" runs the rows whose recipes the search does not change (unsearched methods, references);
# "bf16" runs SimCLR's table rows under bf16 autocast where the CPU computes bf16 natively;
# "diagnose" diagnoses every finished trial (diagnose_trials.py); "cost" times a step of every
# recipe (step_cost.py);
# "promote" runs the promoted variants of the information objectives' screens at 2,000 steps;
# "multicrop" runs SimCLR, IMSVD and DINO with 2 global + 4 local crops; "batchsize" runs SimCLR,
# EntRec, BYOL and EntRec-BYOL at batch 128 and 64 for the table's epochs; "dino" screens DINO's
# recipe on the proxy (screen.py).
# Order: the first rows (the plain loop against infossl's SimCLR, shipped and with the plain
# loop's recipe), checked before the rest; the Optuna studies, one trial per process and
# commit; the winners confirmed at 2,000 steps; the final table at 2,000 steps with seeds 0 and 1.
set -uo pipefail
cd "$(dirname "$0")"
RUNS=${1:-../runs}
RESULTS=${INFOSSL_RESULTS_DIR:-$PWD/results}
export INFOSSL_RESULTS_DIR=$RESULTS
STAGES=${STAGES:-first search confirm}
TRIALS=${TRIALS:-12}
python -c "import infossl; print('infossl from', infossl.__file__)" || { echo "infossl is not importable: install it or set an absolute PYTHONPATH"; exit 1; }

commit_rows() {
  local msg=$1
  for attempt in 1 2 3 4 5; do
    local dirs
    dirs=$(cd "$RESULTS" && ls -d cifar10_steps search screen trial_diagnostics step_cost.json step_cost_bf16.json 2>/dev/null)
    (cd "$RESULTS" && git add $dirs && { git diff --cached --quiet -- $dirs || git commit -q -m "$msg" -- $dirs; }) && return 0
    sleep 5
  done
}

wait_unpaused() {
  while [ -f "$RESULTS/PAUSE" ]; do sleep 20; done
}

# row METHOD SEED [VARIANT [BATCH]]: one 2,000-step row (at another batch: the same epochs)
row() {
  local method=$1 seed=$2 variant=${3:-} batch=${4:-256}
  local tag=$method${variant:+_$variant}
  [ "$batch" != 256 ] && tag=${tag}_batch$batch
  tag=${tag}_seed$seed
  [ "${PRECISION:-}" = bf16-mixed ] && tag=${tag}_bf16
  [ "${JITTER:-}" = jiggle ] && tag=${tag}_jiggle
  [ -f "$RESULTS/cifar10_steps/$tag.json" ] && return 0
  wait_unpaused
  echo "== $(date -u '+%F %T') $tag"
  python cifar10_steps.py --method "$method" --seed "$seed" ${variant:+--variant "$variant"} --batch-size "$batch" \
    ${PRECISION:+--precision "$PRECISION"} ${JITTER:+--jitter-style "$JITTER"} --runs "$RUNS/steps" \
    && commit_rows "CIFAR-10 at 2,000 steps: $tag (measured)"
}

# screen METHOD TAG [KEY=VALUE...]: one 400-step proxy run of a recipe change (screen.py) from the
# shipped recipe, or from where FROM (screen.py arguments, e.g. "--from-trial 7") says
screen() {
  local method=$1 tag=$2; shift 2
  [ -f "$RESULTS/screen/$method/$tag.json" ] && return 0
  wait_unpaused
  echo "== $(date -u '+%F %T') screen $method $tag${FROM:+ ($FROM)}"
  python screen.py --method "$method" --tag "$tag" --runs "$RUNS/search" ${FROM:-} "${@/#/--set=}" > /dev/null \
    && commit_rows "Recipe screen: $method $tag${FROM:+ ($FROM)} (measured)"
}

# screen_trial METHOD TRIAL TAG [KEY=VALUE...]: the same, from trial TRIAL of the method's search
screen_trial() {
  local method=$1 trial=$2; shift 2
  FROM="--from-trial $trial" screen "$method" "$@"
}

# reference METHOD VARIANT STEPS [TRIAL [KEY=VALUE...]]: a named recipe change (cifar10_steps.py's VARIANTS)
# trained STEPS steps on the proxy from the shipped recipe (or from search trial TRIAL, with KEY=VALUE
# overrides on top), beside the study's confirmation (the same held-out images)
reference() {
  local method=$1 variant=$2 steps=$3 trial=${4:-}; shift 3; [ $# -gt 0 ] && shift
  FROM="--variant $variant${trial:+ --from-trial $trial} --steps $steps --report-every 500" \
    screen "$method" "${variant}${trial:+_t$trial}_steps$steps" "$@"
}

# study METHOD: its TRIALS Optuna trials, one process and one commit per trial
study() {
  local method=$1 left
  while left=$(python search.py --method "$method" --trials "$TRIALS" --runs "$RUNS/search" --remaining) && [ "$left" -gt 0 ]; do
    wait_unpaused
    echo "== $(date -u '+%F %T') search $method, $left trials to go"
    python search.py --method "$method" --trials "$TRIALS" --at-most 1 --runs "$RUNS/search" > /dev/null \
      && commit_rows "Recipe search: $method, one more trial (measured)" || break
  done
  python search.py --method "$method" --summary --runs "$RUNS/search" > /dev/null && commit_rows "Recipe search: $method, summary"
}

# confirm METHOD: the study's winner against trial 1 at 2,000 steps on the proxy (search.py
# --confirm keeps the rows it already has)
confirm() {
  local method=$1
  wait_unpaused
  echo "== $(date -u '+%F %T') confirm $method"
  python search.py --method "$method" --confirm 2000 --runs "$RUNS/search" > /dev/null && commit_rows "Recipe search: $method, winner against trial 1 at 2,000 steps (measured)"
}

for stage in $STAGES; do
  case $stage in
    first)
      row plain 0; row simclr 0 plain_recipe; row simclr 0; row plain 1; row simclr 1 plain_recipe ;;
    search)
      for m in simclr imsvd vicreg entrec emi; do study "$m"; done ;;
    confirm)  # after the studies: each winner against trial 1 at 2,000 steps (about an hour a method);
              # SimCLR also against the plain loop's recipe (its target), which the search did not draw and
              # which won; so every other searched method also gets the plain loop's optimizer and crop on
              # its study winner's loss and projector (plain_optim; EMI with its entropy term, the only EMI
              # variant whose score rose during training), one such run each (equal tuning effort)
      # (the plain_optim runs first: SimCLR's plain recipe beat both of its study's candidates; then
      # VICReg's confirmation, whose plain_optim run scored highest of all, 63.8, and ships only
      # against trial 1 at 2,000 steps)
      confirm simclr; reference simclr plain_recipe 2000
      reference imsvd plain_optim 2000 12
      reference vicreg plain_optim 2000 8
      reference entrec plain_optim 2000 9
      confirm vicreg
      reference emi plain_optim 2000 10 model.method.entropy_weight=1.0
      for m in imsvd entrec emi; do confirm "$m"; done
      # EntRec as a drop-in objective: the published loss (trial 1, kappa 10) in SimCLR's shipped recipe
      # (its optimizer, crop and 512-128 projector), only the loss differs from the host's 60.26
      reference entrec plain_recipe 2000 1 ;;
    dino)  # DINO's CPU recipe (solo-learn's) collapses to a uniform teacher: it against head batch
           # norm, a constant teacher temperature 0.04, both, and lightly's CIFAR-10 benchmark recipe
           # (one 2048 hidden layer with batch norm, 256 bottleneck, 2,048 prototypes, teacher 0.04,
           # SGD 6e-2 x batch/128 with weight decay 5e-4, crops 0.4-1, no clipping, no frozen last layer);
           # EntRec-DINO on both hosts
      screen dino shipped
      screen dino head_bn model.method.head_batch_norm=true
      screen dino teacher_t004 model.method.teacher_temperature=0.04
      screen dino head_bn_teacher_t004 model.method.head_batch_norm=true model.method.teacher_temperature=0.04
      screen entrec_dino shipped
      lightly_host=(model.method.projector=[2048,256] model.method.prototypes=2048 model.method.head_batch_norm=true
        model.method.freeze_last_layer_fraction=0 model.optim.name=sgd model.optim.lr=0.12 model.optim.weight_decay=5e-4
        trainer.gradient_clip_val=null data.augment.crop_scale=[0.4,1.0])
      screen dino lightly_recipe "${lightly_host[@]}" model.method.teacher_temperature=0.04
      screen entrec_dino lightly_host "${lightly_host[@]}"
      screen entrec_dino lightly_host_teacher_t004 "${lightly_host[@]}" model.method.teacher_temperature=0.04 ;;
    fixed)  # what does not wait for the search winners: the table rows of the unsearched recipes and the
            # references, DINO's multi-crop rows, BYOL's and EntRec-BYOL's batch sizes (rows the later
            # stages would run anyway; an existing row is skipped)
      for seed in 0 1; do
        for m in plain byol barlow entrec_byol dino entrec_dino; do row "$m" "$seed"; done
        row random "$seed"; row supervised "$seed"; row dino "$seed" multicrop
        for batch in 128 64; do row byol "$seed" "" "$batch"; row entrec_byol "$seed" "" "$batch"; done
      done ;;
    table)
      # the eight methods and the references at both seeds first (the recipes' table), then the DINO rows;
      # the rows whose seed 0 exists get their seed 1 first, so that a stopped queue leaves whole pairs
      for m in plain simclr vicreg entrec imsvd emi byol; do row "$m" 0; row "$m" 1; done
      for seed in 0 1; do
        for m in entrec_byol barlow; do row "$m" "$seed"; done
        row random "$seed"; row supervised "$seed"
      done
      for seed in 0 1; do row dino "$seed"; row entrec_dino "$seed"; done ;;
    information)  # the information objectives' directions from their search winners, on the proxy, one
                  # seed; SimCLR and VICReg get as many screens from their own winners (equal tuning
                  # effort); in rounds, one screen per method each, so that a queue stopped part-way
                  # has screened every method equally; multi-crop (about twice the cost per step) in
                  # round 5; EMI's screens after round 2 build on its entropy term (the first EMI run
                  # whose held-out score rose during training; two in round 3, none in round 6, seven in
                  # all like every method), the others' start from their winners
      multicrop=(data.augment.crop_scale=[0.14,1.0] data.augment.local_crops=4 data.augment.local_image_size=16
        data.augment.local_crop_scale=[0.05,0.14])
      for round in 1 2 3 4 5 6 7; do
        case $round in
          1) screen_trial imsvd 12 t12_normalized model.method.normalize_logits=true
             screen_trial simclr 7 t7_temperature_01 model.method.temperature=0.1
             screen_trial vicreg 8 t8_sim_weight_double model.method.sim_weight=15.5
             screen_trial entrec 9 t9_kappa_half model.method.kappa=3.75
             screen_trial emi 10 t10_invariance_1 model.method.invariance_weight=1.0 ;;
          2) screen_trial imsvd 12 t12_sharpen_to_t005 model.method.final_temperature=0.05
             screen_trial simclr 7 t7_temperature_03 model.method.temperature=0.3
             screen_trial vicreg 8 t8_cov_weight_double model.method.cov_weight=2.70
             screen_trial entrec 9 t9_kappa_double model.method.kappa=15.0
             screen_trial emi 10 t10_lr_x5 model.optim.lr=0.1 ;;
          3) screen_trial emi 10 t10_entropy_1 model.method.entropy_weight=1.0
             screen_trial emi 10 t10_entropy_1_lr_x5 model.method.entropy_weight=1.0 model.optim.lr=0.1
             screen_trial imsvd 12 t12_normalized_t05 model.method.normalize_logits=true model.method.temperature=0.5
             screen_trial simclr 7 t7_lr_half model.optim.lr=0.0987
             screen_trial vicreg 8 t8_lr_half model.optim.lr=0.559
             screen_trial entrec 9 t9_average_estimator model.method.estimator=average ;;
          4) screen_trial imsvd 12 t12_soft_start_t1 model.method.temperature=1.0 model.method.final_temperature=0.192
             screen_trial simclr 7 t7_lr_double model.optim.lr=0.395
             screen_trial vicreg 8 t8_lr_double model.optim.lr=2.24
             screen_trial entrec 9 t9_weight_decay_5e-4 model.optim.weight_decay=5e-4
             screen_trial emi 10 t10_entropy_1_d128_groups_auto model.method.entropy_weight=1.0 model.method.projector=[2048,2048,128] model.method.groups=auto ;;
          5) screen_trial imsvd 12 t12_multicrop "${multicrop[@]}"
             screen_trial simclr 7 t7_multicrop "${multicrop[@]}"
             screen_trial vicreg 8 t8_multicrop "${multicrop[@]}"
             screen_trial entrec 9 t9_multicrop "${multicrop[@]}"
             screen_trial emi 10 t10_entropy_3_lr_x5 model.method.entropy_weight=3.0 model.optim.lr=0.1 ;;
          6) screen_trial imsvd 12 t12_k16 model.method.num_states=16
             screen_trial simclr 7 t7_crop_02 data.augment.crop_scale=[0.2,1.0]
             screen_trial vicreg 8 t8_crop_03 data.augment.crop_scale=[0.3,1.0]
             screen_trial entrec 9 t9_crop_02 data.augment.crop_scale=[0.2,1.0] ;;
          7) # after the test split put IMSVD 6 points under VICReg: fewer states (K^2 = 64 <= N, so the
             # redundancy term can reach its bound; K = 8 led the early 10-minute studies), EMI at D = 64
             # (N - 1 >= 2D at 256), wider projectors, and SimCLR's weight decay as EntRec's round 4
             screen_trial imsvd 12 t12_k8 model.method.num_states=8
             screen_trial simclr 7 t7_weight_decay_5e-4 model.optim.weight_decay=5e-4
             screen_trial vicreg 8 t8_projector_2048 model.method.projector=[2048,2048,2048]
             screen_trial entrec 9 t9_projector_2048 model.method.projector=[2048,2048,256]
             screen_trial emi 10 t10_entropy_1_d64 model.method.entropy_weight=1.0 model.method.projector=[2048,2048,64] ;;
        esac
      done
      screen entrec_dino teacher_t007 model.method.teacher_temperature=0.07 ;;
    diagnose)  # after the studies: the diagnostics of every finished trial (one thread, minutes per trial)
      for m in simclr imsvd vicreg entrec emi; do
        wait_unpaused
        echo "== $(date -u '+%F %T') diagnose $m"
        python diagnose_trials.py --method "$m" --runs "$RUNS/search" --threads 2 > /dev/null && commit_rows "Diagnostics of the $m proxy runs (measured)"
      done ;;
    bf16)  # only on a CPU with native bf16 (avx512_bf16 or amx_bf16): SimCLR's table rows under bf16
           # autocast, against its float32 rows of the same colour jitter (kornia's ColorJiggle, the
           # default when they ran), and the cost of a step in both precisions
      # infossl's own test of native bf16 (the flags it reads to pick a CPU run's precision)
      native=$(python -c "from infossl.training.precision import default_cpu_precision; print(default_cpu_precision()[0])")
      if [ "$native" = bf16-mixed ]; then
        if [ ! -f "$RESULTS/step_cost_bf16.json" ]; then
          wait_unpaused
          echo "== $(date -u '+%F %T') step cost, float32 and bf16"
          python step_cost.py --bf16 && commit_rows "Step cost of every recipe in float32 and under bf16 autocast (measured)"
        fi
        for seed in 0 1; do PRECISION=bf16-mixed JITTER=jiggle row simclr "$seed"; done
      else
        echo "bf16: this CPU has no native bf16 (avx512_bf16, amx_bf16): skipped"
      fi ;;
    cost)  # once the winners ship: seconds per step of every recipe relative to SimCLR, in one process
      wait_unpaused
      echo "== $(date -u '+%F %T') step cost"
      python step_cost.py > /dev/null && commit_rows "Cost per step of the shipped recipes (measured)" ;;
    batchsize)  # EntRec's robustness to small batches against its hosts': the epochs of 2,000 steps
                # at 256, at batch 128 and 64 (the 256 rows are the table's); batch 64 with both seeds
                # first, since the drop is measured from 256 to 64 and a claim needs 2 seeds, so that
                # a stopped queue leaves complete drops first
      for batch in 64 128; do
        for seed in 0 1; do
          for m in simclr entrec byol entrec_byol; do row "$m" "$seed" "" "$batch"; done
        done
      done ;;
    promote)  # the information objectives' best proxy screens (variants.py's PROMOTED, in its order) at the
              # table's protocol, both seeds of a variant together
      for pair in $(python -c "from variants import PROMOTED; print(' '.join(f'{v}:{m}' for v, (m, _) in PROMOTED.items()))"); do
        for seed in 0 1; do row "${pair#*:}" "$seed" "${pair%%:*}"; done
      done ;;
    multicrop)  # 2 global + 4 local crops at equal steps, against the same methods' table rows; a method's
                # two seeds together, cheapest method first, so that a stopped queue leaves whole pairs;
                # then DINO's local crops with its own 0.4-1 global crops (6 kNN-20 points lost in seed 0
                # with multicrop), to separate the local crops from the global crops' scale
      for m in simclr dino imsvd; do
        for seed in 0 1; do row "$m" "$seed" multicrop; done
      done
      row dino 0 local_crops ;;
  esac
done
