"""Hyper-parameter search with Optuna, the same budget for every searched method.

    python benchmarks/search.py --method simclr                 # 12 trials (continues a stopped study)
    python benchmarks/search.py --method imsvd --trials 12
    python benchmarks/search.py --method simclr --summary       # best trials and parameter importances
    python benchmarks/search.py --method simclr --confirm 2000  # the winner against trial 1 at 2,000 steps
    python benchmarks/search.py --method simclr --recipe        # the winner as a cifar10_cpu recipe (stdout)

Proxy task (never the test split): train on 45,000 CIFAR-10 training images for at most 400
optimizer steps at batch 256, score kNN-20 top-1 (temperature 0.07) on the other 5,000 training
images with the 45,000 as the bank. Every 100 steps the trial reports an intermediate score
(kNN-20 on the 5,000 with the first 10,000 training images as the bank, cheaper) and Optuna's
median pruner may stop it. TPE with 4 random start-up trials, seeded; the study lives in
SQLite (``runs/search/<method>.db``), so a stopped search continues where it was; without that
file (a fresh clone) the study is rebuilt from its committed rows first.

Trial 1 of every study is the method's shipped recipe (``cifar10_cpu/<method>.yaml``, whose
comment names its source), enqueued before TPE proposes anything. The study keeps a copy of that
recipe beside its rows (``recipe_before_search.yaml``) and trains every trial from the copy, so
shipping the study's winner later does not change what its trials, confirmations and screens
mean. The space: optimizer (SGD or
LARS), learning rate and weight decay (log scale), the crop's minimum area, the warm-up
fraction, the projector's hidden width, depth and output size, and each method's own settings
(SPACES). Each trial writes a JSON row (parameters, state, held-out score, intermediate
scores, seconds per step) to ``benchmarks/results/search/<method>/trial_NNN.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from cifar10_budget import proxy_npz, recipe, write_row
from common import RESULTS_DIR

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "src" / "infossl" / "configs" / "cifar10_cpu"
FOLDER = "search"
PROXY_FIT, PROXY_HELD = 45_000, 5_000
INTERMEDIATE_BANK = 10_000

Space = Callable[[Any], dict[str, Any]]


def common_space(trial, outputs: list[int]) -> dict[str, Any]:
    """Settings every method searches: the optimizer, the schedule, the crop, the projector."""
    depth = trial.suggest_int("projector_depth", 1, 3)  # hidden layers
    return {
        "optimizer": trial.suggest_categorical("optimizer", ["sgd", "lars"]),
        "lr": trial.suggest_float("lr", 0.01, 3.0, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        "crop_min": trial.suggest_float("crop_min", 0.08, 0.5),
        "warmup_fraction": trial.suggest_float("warmup_fraction", 0.0, 0.2),
        "projector": [trial.suggest_categorical("projector_width", [512, 1024, 2048])] * depth
        + [trial.suggest_categorical("projector_output", outputs)],
    }


#: each searched method's own settings, and the projector output sizes it may use
SPACES: dict[str, Space] = {
    "simclr": lambda t: {**common_space(t, [128, 256]), "temperature": t.suggest_float("temperature", 0.05, 0.5, log=True)},
    "entrec": lambda t: {
        **common_space(t, [128, 256]),
        "kappa": t.suggest_float("kappa", 2.0, 50.0, log=True),
        "estimator": t.suggest_categorical("estimator", ["expectation", "average"]),
    },
    "vicreg": lambda t: {
        **common_space(t, [512, 1024, 2048]),
        "sim_weight": t.suggest_float("sim_weight", 5.0, 50.0, log=True),
        "cov_weight": t.suggest_float("cov_weight", 0.2, 5.0, log=True),
    },
    "imsvd": lambda t: {
        **common_space(t, [256, 512, 1024, 2048]),
        "num_states": t.suggest_categorical("num_states", [4, 8, 16, 32]),  # all divide the outputs
        "temperature": t.suggest_float("temperature", 0.05, 2.0, log=True),
        "invariance_weight": t.suggest_float("invariance_weight", 0.1, 10.0, log=True),
        "diagonal_weight": t.suggest_float("diagonal_weight", 0.1, 10.0, log=True),
        "off_diagonal_weight": t.suggest_float("off_diagonal_weight", 0.1, 10.0, log=True),
    },
    "emi": lambda t: {
        **common_space(t, [32, 64, 128, 256, 1024]),
        "eps": t.suggest_float("eps", 1e-4, 1e-1, log=True),
        "standardize": t.suggest_categorical("standardize", [True, False]),
        # block-diagonal MI over groups of D / G dimensions (1: the paper's full estimate; "auto":
        # the fewest groups with N - 1 >= 2 D / G); every projector output above is divisible by 16
        "groups": t.suggest_categorical("groups", [1, 4, 16, "auto"]),
        # the optional invariance term: off (the recipe) or a log-scaled weight
        "invariance_weight": t.suggest_float("invariance_weight", 1e-2, 10.0, log=True) if t.suggest_categorical("invariance", [False, True]) else 0.0,
    },
}
OPTIM_KEYS = ("optimizer", "lr", "weight_decay", "warmup_fraction")
#: the colour jitter of every study row (kornia's ColorJiggle, the default when the studies ran)
STUDY_JITTER = "jiggle"


def pinned_recipe(method: str) -> Path:
    """Where the study keeps its copy of the recipe it began from, beside its rows."""
    return RESULTS_DIR / FOLDER / method / "recipe_before_search.yaml"


def study_recipe(method: str) -> Path:
    """The recipe the method's study searches around: the copy of ``cifar10_cpu/<method>.yaml``
    pinned when the study began (:func:`pin_study_recipe`), or the shipped recipe before that."""
    pinned = pinned_recipe(method)
    return pinned if pinned.is_file() else RECIPES / f"{method}.yaml"


def pin_study_recipe(method: str) -> None:
    """Keep a copy of the shipped recipe beside the study's rows, once, before its first trial."""
    pinned = pinned_recipe(method)
    if not pinned.is_file():
        pinned.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RECIPES / f"{method}.yaml", pinned)


def study_config(method: str, run_dir: Path) -> str:
    """:func:`study_recipe` as a ``--config`` file: copied into ``run_dir`` beside the family base
    it includes (``config: _base.yaml``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(RECIPES / "_base.yaml", run_dir / "_base.yaml")
    return str(shutil.copy(study_recipe(method), run_dir / f"{method}_recipe_before_search.yaml"))


def trial_one_params(method: str) -> dict[str, Any]:
    """The recipe the study began from as a point of the search space (trial 1)."""
    with tempfile.TemporaryDirectory() as folder:
        config = recipe(method, study_config(method, Path(folder)))
    optim, init = config["model"]["optim"], config["model"]["method"]["init_args"]
    projector = list(init["projector"])
    params = {
        "optimizer": optim["name"],
        "lr": optim["lr"],
        "weight_decay": optim["weight_decay"],
        "crop_min": config["data"]["augment"]["crop_scale"][0],
        "warmup_fraction": optim["warmup_fraction"],
        "projector_depth": len(projector) - 1,
        "projector_width": projector[0],
        "projector_output": projector[-1],
    }
    own = {"simclr": ["temperature"], "entrec": ["kappa", "estimator"], "vicreg": ["sim_weight", "cov_weight"],
           "imsvd": ["num_states", "temperature", "invariance_weight", "diagonal_weight", "off_diagonal_weight"],
           "emi": ["eps", "standardize", "groups"]}[method]
    params.update({key: init[key] for key in own})
    if method == "emi":
        params["invariance"] = init["invariance_weight"] > 0
        if params["invariance"]:
            params["invariance_weight"] = init["invariance_weight"]
    return params


def proxy_args(method: str, data: Path, run_dir: Path, steps: int, seed: int, config: str | None = None) -> list[str]:
    """``infossl pretrain`` arguments of one proxy run of ``config`` (default: the shipped
    ``cifar10_cpu/<method>.yaml``): float32, ``steps`` steps, no monitors (the caller scores the
    held-out split), one final checkpoint. The colour jitter stays kornia's ColorJiggle, with which every
    study, confirmation and screen was measured, so that new rows compare with the old ones."""
    return [
        "--config", config or f"cifar10_cpu/{method}.yaml", "--run_dir", str(run_dir), "--data.path", str(data),
        "--data.augment.jitter_style", STUDY_JITTER,
        "--seed_everything", str(seed), "--trainer.max_steps", str(steps), "--trainer.max_epochs", "-1",
        "--trainer.precision", "32-true", "--trainer.limit_val_batches", "0", "--trainer.enable_progress_bar", "false",
        "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0", "--online_probe.enabled", "false",
        "--checkpoint.every_n_train_steps", str(steps),
    ]


def pretrain_args(method: str, settings: dict[str, Any], data: Path, run_dir: Path, steps: int, seed: int) -> list[str]:
    """``infossl pretrain`` arguments of one trial: the study's recipe with ``settings`` applied."""
    args = proxy_args(method, data, run_dir, steps, seed, study_config(method, run_dir)) + [
        "--model.optim.name", settings["optimizer"], "--model.optim.lr", repr(settings["lr"]),
        "--model.optim.weight_decay", repr(settings["weight_decay"]), "--model.optim.warmup_fraction", repr(settings["warmup_fraction"]),
        "--data.augment.crop_scale", f"[{settings['crop_min']!r}, 1.0]",
        "--model.method.projector", json.dumps(settings["projector"]),
    ]
    for key, value in settings.items():
        if key not in (*OPTIM_KEYS, "crop_min", "projector"):
            args += [f"--model.method.{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return args


def held_out_knn(module, splits, bank_size: int | None = None) -> float:
    """kNN-20 top-1 (%) of the module's backbone on the held-out split, bank: the training split."""
    from infossl.encoder import Encoder
    from infossl.eval.features import encode_images
    from infossl.eval.knn import knn_evaluate

    augment = module.trainer.datamodule.augment_config
    encoder = Encoder(module.backbone, module.feature_dim, None, augment.mean, augment.std)
    was_training = module.backbone.training
    bank = splits.train.images[:bank_size], splits.train.labels[:bank_size]
    try:
        train = encode_images(encoder, bank[0], desc="bank")
        test = encode_images(encoder, splits.test.images, desc="held-out")
    finally:
        module.backbone.train(was_training)
    return 100 * knn_evaluate(train, bank[1], test, splits.test.labels, ks=(20,))["knn20_top1"]


class HeldOutReporter(L.Callback):
    """Scores the intermediate held-out kNN-20 every ``every`` steps (before ``last``), keeps the
    scores and the training metrics logged at that step, and calls ``decide(step, score)``;
    a true answer stops training there."""

    def __init__(self, splits, every: int, last: int, decide: Callable[[int, float], bool] | None = None) -> None:
        self.splits, self.every, self.last, self.decide = splits, every, last, decide
        self.scores: dict[int, float] = {}
        self.metrics: dict[int, dict[str, float]] = {}
        self.stopped_at: int | None = None

    def on_train_batch_end(self, trainer, module, *args) -> None:
        step = trainer.global_step
        if step % self.every or step >= self.last:
            return
        score = held_out_knn(module, self.splits, INTERMEDIATE_BANK)
        self.scores[step] = round(score, 2)
        self.metrics[step] = {key: round(float(value), 4) for key, value in trainer.callback_metrics.items() if key.startswith("train/")}
        if self.decide is not None and self.decide(step, score):
            self.stopped_at = step
            trainer.should_stop = True


def optuna_pruning(trial) -> Callable[[int, float], bool]:
    """Reports each intermediate score to the trial; true where Optuna's pruner says stop."""

    def decide(step: int, score: float) -> bool:
        trial.report(score, step)
        return trial.should_prune()

    return decide


def run_trial(trial, method: str, data: Path, runs: Path, steps: int, every: int, seed: int) -> float:
    import optuna

    from infossl.cli.pretrain import build_cli, check_before_fit
    from infossl.eval.features import load_eval_splits

    settings = SPACES[method](trial)
    run_dir = runs / f"{method}_trial{trial.number:03d}"
    args = pretrain_args(method, settings, data, run_dir, steps, seed)
    splits = load_eval_splits(data)
    row: dict[str, Any] = {"method": method, "trial": trial.number + 1, "params": trial.params, "settings": settings,
                           "arguments": args, "steps_budget": steps, "seed": seed}
    started = time.perf_counter()
    try:
        cli = build_cli(args)
        check_before_fit(cli)
        reporter = HeldOutReporter(splits, every, steps, optuna_pruning(trial))
        cli.trainer.callbacks.append(reporter)
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        module = cli.model
        row.update({"steps": cli.trainer.global_step, "intermediate": reporter.scores,
                    "seconds_per_step": round(module.train_seconds / max(1, cli.trainer.global_step), 4)})
        if reporter.stopped_at is not None:
            row.update({"state": "pruned", "held_out_knn20": None})
            raise optuna.TrialPruned(f"pruned at step {reporter.stopped_at}")
        score = held_out_knn(module, splits)
        row.update({"state": "complete", "held_out_knn20": round(score, 2)})
        return score
    except optuna.TrialPruned:
        raise
    except Exception as error:  # a diverged or invalid trial is a result too: recorded, then failed
        row.update({"state": "failed", "error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"})
        raise
    finally:
        row["wall_s"] = round(time.perf_counter() - started, 1)
        write_row(f"{FOLDER}/{method}", trial_row(method, trial.number + 1).stem, row)


def trial_row(method: str, number: int) -> Path:
    """Where trial ``number`` (1-based, as the rows count) of ``method``'s study is recorded."""
    return RESULTS_DIR / FOLDER / method / f"trial_{number:03d}.json"


def drew_a_point(trial) -> bool:
    """False for a trial that failed before it drew a point (an import error): the
    environment's fault, not the point's, so it counts neither against the budget nor as a trial."""
    import optuna

    return bool(trial.params) or trial.state != optuna.trial.TrialState.FAIL


def restore_from_rows(study, method: str) -> int:
    """Add the committed trial rows of ``method`` to an empty ``study``, in their order, so that a
    search whose SQLite file is gone (a fresh clone, another machine) continues from the rows:
    the same trial numbers, states, scores and intermediate scores, so TPE, the pruner, the
    budget, ``--confirm`` and ``--recipe`` see the same study. A number without a row (a trial
    that was interrupted and run again) becomes a failed trial without a point, which counts
    neither as a trial nor against the budget. Returns the number of rows restored."""
    import optuna

    rows = {}
    for path in sorted((RESULTS_DIR / FOLDER / method).glob("trial_*.json")):
        row = json.loads(path.read_text())["row"]
        rows[int(row["trial"])] = row
    states = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
              "failed": optuna.trial.TrialState.FAIL}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # not one "study created" line per row
    try:
        for number in range(1, max(rows, default=0) + 1):
            row = rows.get(number)
            if row is None:
                study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
                continue
            if row["state"] not in states:
                raise ValueError(f"{trial_row(method, number)}: state {row['state']!r}, expected one of {sorted(states)}")
            # the space itself gives each parameter's distribution: replay the row's point through it
            replay = optuna.create_study()
            replay.enqueue_trial(row["params"])
            drawn = replay.ask()
            try:
                SPACES[method](drawn)
                if drawn.params != row["params"]:
                    raise ValueError("other parameters than the space draws")
            except ValueError as error:
                raise ValueError(f"{trial_row(method, number)}: its parameters are not a point of the {method} space ({error})") from None
            complete = row["state"] == "complete"
            study.add_trial(optuna.trial.create_trial(
                params=row["params"], distributions=drawn.distributions, state=states[row["state"]],
                value=row["held_out_knn20"] if complete else None,
                intermediate_values={int(step): score for step, score in row.get("intermediate", {}).items()},
            ))
    finally:
        optuna.logging.set_verbosity(verbosity)
    return len(rows)


def study_for(method: str, runs: Path, seed: int):
    """The method's study, created or continued. The sampler's seed is ``seed`` plus the trials
    already run: a queue runs one trial per process, and the same seed in every process would
    draw the same random start-up point again and again."""
    import optuna

    runs.mkdir(parents=True, exist_ok=True)
    name, storage = f"cifar10_cpu_{method}", f"sqlite:///{runs / f'{method}.db'}"
    existing = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)
    if not existing.trials:
        restore_from_rows(existing, method)
    done = len(existing.trials)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(n_startup_trials=4, seed=seed + done),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0),
        load_if_exists=True,
    )


def summary(method: str, runs: Path, seed: int, top: int = 3) -> dict[str, Any]:
    import optuna

    study = study_for(method, runs, seed)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = sorted(complete, key=lambda t: -t.value)[:top]
    drawn = [t for t in study.trials if drew_a_point(t)]
    out: dict[str, Any] = {
        "method": method,
        "trials": len(drawn),
        "not_counted": len(study.trials) - len(drawn),
        "complete": len(complete),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in drawn),
        "best": [{"trial": t.number + 1, "held_out_knn20": round(t.value, 2), "params": t.params} for t in best],
    }
    failures = []
    for t in study.trials:
        row_path = trial_row(method, t.number + 1)
        if t.state == optuna.trial.TrialState.FAIL and drew_a_point(t) and row_path.is_file():
            failures.append({"trial": t.number + 1, "optimizer": t.params.get("optimizer"), "lr": round(t.params.get("lr", float("nan")), 4),
                             "error": json.loads(row_path.read_text())["row"].get("error", "")})
    if failures:
        out["failures"] = failures
    if len(complete) >= 2:
        importances = optuna.importance.get_param_importances(study)
        out["importances"] = {key: round(value, 3) for key, value in importances.items()}
        out["importances_from"] = f"{len(complete)} completed trials"
    return out


def best_completed(study, method: str):
    """The study's completed trial with the highest held-out score; exits when there is none."""
    import optuna

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise SystemExit(f"{method}: no completed trial")
    return max(complete, key=lambda t: t.value)


def confirm(method: str, data: Path, runs: Path, steps: int, seed: int) -> list[dict[str, Any]]:
    """The study's best completed trial against trial 1 (the shipped recipe), each trained for
    ``steps`` steps on the proxy's 45,000 images and scored on its 5,000 held-out ones."""
    import optuna

    from infossl.cli.pretrain import pretrain
    from infossl.eval.features import load_eval_splits

    study = study_for(method, runs, seed)
    best = best_completed(study, method)
    splits = load_eval_splits(data)
    rows = []
    for trial in [study.trials[0]] + ([best] if best.number != 0 else []):
        tag = f"confirm_trial{trial.number + 1:03d}_seed{seed}"
        done = RESULTS_DIR / FOLDER / method / f"{tag}.json"
        if done.is_file():  # a stopped confirmation keeps its finished half
            rows.append(json.loads(done.read_text())["row"])
            continue
        settings = SPACES[method](optuna.trial.FixedTrial(trial.params))
        run_dir = runs / f"{method}_{tag}"
        args = pretrain_args(method, settings, data, run_dir, steps, seed)
        started = time.perf_counter()
        cli = pretrain(args)
        row = {"method": method, "trial": trial.number + 1, "proxy_score": round(trial.value, 2) if trial.value is not None else None,
               "params": trial.params, "arguments": args, "seed": seed, "steps": cli.trainer.global_step,
               "seconds_per_step": round(cli.model.train_seconds / max(1, cli.trainer.global_step), 4),
               "held_out_knn20": round(held_out_knn(cli.model, splits), 2), "wall_s": round(time.perf_counter() - started, 1)}
        write_row(f"{FOLDER}/{method}", tag, row)
        rows.append(row)
    return rows


def significant(value: Any, digits: int = 3) -> Any:
    """Floats to ``digits`` significant digits (a recipe's values), other values unchanged."""
    return float(f"{value:.{digits}g}") if isinstance(value, float) else value


def recipe_overlay(method: str, params: dict[str, Any], provenance: str) -> str:
    """The study's recipe (:func:`study_recipe`) with a trial's settings in place of the searched
    keys (the others kept), under a first comment line ``provenance`` (the study and the trial)
    followed by that recipe's own comment; floats to 3 significant digits."""
    import optuna
    import yaml

    text = study_recipe(method).read_text()
    overlay = yaml.safe_load(text)
    settings = {key: significant(value) for key, value in SPACES[method](optuna.trial.FixedTrial(params)).items()}
    init = overlay["model.method"]["init_args"]
    for key, value in settings.items():
        if key == "crop_min":
            overlay["data.augment.crop_scale"] = [value, 1.0]
        elif key in OPTIM_KEYS:
            overlay[f"model.optim.{'name' if key == 'optimizer' else key}"] = value
        else:
            init[key] = value
    comments = [line for line in text.splitlines() if line.startswith("#")]
    header = [f"# {provenance}"] + [f"# Trial 1, the recipe before the search: {line.lstrip('# ')}" for line in comments[:1]]
    return "\n".join(header) + "\n" + yaml.safe_dump(overlay, sort_keys=False, default_flow_style=None)


def best_trial_overlay(method: str, runs: Path, seed: int) -> str:
    """The study's best completed trial as a recipe, naming the study, the trial and its scores
    (and the 2,000-step confirmation when its rows exist)."""
    study = study_for(method, runs, seed)
    best = best_completed(study, method)
    drawn = sum(drew_a_point(t) for t in study.trials)
    provenance = (f"Chosen by the recipe search (benchmarks/search.py --method {method}): trial {best.number + 1} of {drawn}, "
                  f"held-out kNN-20 {best.value:.2f} on the 400-step proxy (trial 1: {study.trials[0].value or float('nan'):.2f})")
    confirmed = {t: RESULTS_DIR / FOLDER / method / f"confirm_trial{t:03d}_seed{seed}.json" for t in (1, best.number + 1)}
    if all(p.is_file() for p in confirmed.values()):
        scores = {t: json.loads(p.read_text())["row"]["held_out_knn20"] for t, p in confirmed.items()}
        provenance += f"; at 2,000 steps {scores[best.number + 1]:.2f} against trial 1's {scores[1]:.2f}"
    return recipe_overlay(method, best.params, provenance + " (values to 3 significant digits).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=sorted(SPACES))
    parser.add_argument("--trials", type=int, default=12, help="trials of the study in all (a continued study runs the rest)")
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps per trial at most")
    parser.add_argument("--report-every", type=int, default=100, help="steps between intermediate scores")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--at-most", type=int, help="run at most this many trials in this process (a queue commits between them)")
    parser.add_argument("--remaining", action="store_true", help="print how many trials the study still has to run, and exit")
    parser.add_argument("--summary", action="store_true", help="write and print the study's best trials and parameter importances")
    parser.add_argument(
        "--confirm", type=int, metavar="STEPS",
        help="train the best completed trial and trial 1 for STEPS steps (2000 in the recipes plan) on the proxy and score both",
    )
    parser.add_argument("--recipe", action="store_true", help="print the best completed trial as a cifar10_cpu/<method>.yaml recipe")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--proxy", type=Path, help="a ready proxy npz (x_train to fit, x_test to score), instead of splitting --data")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "search", help="run folders and the SQLite studies")
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))
    import optuna

    import infossl  # noqa: F401  (missing, it must stop the queue here, not fail every trial inside Optuna)

    if args.recipe:
        print(best_trial_overlay(args.method, args.runs, args.seed), end="")
        return
    if args.summary:
        result = summary(args.method, args.runs, args.seed)
        write_row(FOLDER, f"{args.method}_summary", result)
        print(json.dumps(result, indent=1))
        return
    if args.proxy is None and not args.data.is_file():
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz, see ../shared/data/README.md)")
    data = args.proxy or proxy_npz(args.data, args.runs, PROXY_FIT, PROXY_HELD)
    if args.confirm:
        print(json.dumps(confirm(args.method, data, args.runs, args.confirm, args.seed), indent=1))
        return
    study = study_for(args.method, args.runs, args.seed)
    if not study.trials:
        pin_study_recipe(args.method)
        study.enqueue_trial(trial_one_params(args.method))
    # a trial that was running when an earlier process stopped stays RUNNING in the storage:
    # close it as failed and run its point again (one search process per study at a time)
    for stale in [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]:
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(stale.params)
        study.set_user_attr("interrupted", study.user_attrs.get("interrupted", 0) + 1)
    # every finished trial counts against the budget (a diverged one too), interrupted ones do
    # not, nor one that failed before it drew a point
    counted = [t for t in study.trials if t.state.is_finished() and drew_a_point(t)]
    remaining = args.trials - len(counted) + study.user_attrs.get("interrupted", 0)
    if args.remaining:
        print(max(0, remaining))
        return
    if args.at_most is not None:
        remaining = min(remaining, args.at_most)
    if remaining > 0:
        study.optimize(
            lambda trial: run_trial(trial, args.method, data, args.runs, args.steps, args.report_every, args.seed),
            n_trials=remaining, catch=(Exception,),
        )
    print(json.dumps(summary(args.method, args.runs, args.seed), indent=1))


if __name__ == "__main__":
    main()
