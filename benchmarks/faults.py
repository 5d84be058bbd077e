"""Fault injection against the real CLI on a small CIFAR-10 subset.

    python benchmarks/faults.py            # prints the table and writes docs/reliability.md

Scenarios: an uninterrupted reference run; SIGKILL in the middle of an epoch and
--resume; SIGTERM and Ctrl-C (SIGINT) and --resume; a kill while a checkpoint is
being written; a diverging run (learning rate 1e6). For each: what happened, the
optimizer steps lost (completed steps minus the step of the checkpoint a resume
starts from) and whether the checkpoint on disk is intact (loadable, finite).
Interrupted runs are resumed and their final weights compared with the reference.
"""

from __future__ import annotations

import argparse
import csv
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import git_commit, machine_info

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "reliability.md"
TRAIN, TEST, BATCH, EPOCHS, EVERY = 2000, 500, 64, 2, 10
STEPS = (TRAIN // BATCH) * EPOCHS


def subset(data: Path, out: Path) -> Path:
    with np.load(data) as a:
        np.savez(out, x_train=a["x_train"][:TRAIN], y_train=a["y_train"][:TRAIN], x_test=a["x_test"][:TEST],
                 y_test=a["y_test"][:TEST], classes=a["classes"])
    return out


def command(npz: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "infossl", "pretrain", "--config", "cifar10_cpu/imsvd.yaml",
        "--data.path", str(npz), "--data.batch_size", str(BATCH), "--run_dir", str(run_dir),
        "--trainer.max_epochs", str(EPOCHS), "--trainer.deterministic", "true", "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false", "--checkpoint.every_n_train_steps", str(EVERY),
        "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0", "--model.channels_last", "false", *extra,
    ]


def logged_steps(run_dir: Path) -> list[int]:
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return []
    return sorted({int(r["step"]) for r in csv.DictReader(path.open()) if r.get("train/loss")})


def checkpoint_state(path: Path) -> tuple[int | None, bool]:
    """(global step, intact: loadable with finite weights)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return None, False
    finite = all(torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point())
    return int(ckpt["global_step"]), finite


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].is_floating_point())


def interrupt(npz: Path, run_dir: Path, sig: signal.Signals, at_step: int) -> tuple[int, str, int]:
    """Start a run, send ``sig`` once ``at_step`` steps are logged; (exit code, stderr tail, steps done)."""
    process = subprocess.Popen(command(npz, run_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and (not logged_steps(run_dir) or logged_steps(run_dir)[-1] < at_step):
        time.sleep(0.05)
    process.send_signal(sig)
    _, err = process.communicate()
    done = logged_steps(run_dir)
    ours = [line for line in err.splitlines() if line.startswith(("infossl", "Resume with"))]
    return process.returncode, ours, (done[-1] + 1 if done else 0)


def resume_and_compare(npz: Path, run_dir: Path, reference: dict[str, torch.Tensor]) -> str:
    result = subprocess.run(command(npz, run_dir, "--resume", "true"), capture_output=True, text=True)
    if result.returncode != 0:
        return f"resume failed ({result.returncode})"
    difference = max_difference(weights(run_dir), reference)
    return "identical to the reference" if difference == 0 else f"max weight difference {difference:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    args = parser.parse_args()
    rows: list[list[str]] = []
    messages: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        npz = subset(args.data, tmp / "cifar10_subset.npz")
        started = time.perf_counter()
        subprocess.run(command(npz, tmp / "reference"), check=True, capture_output=True)
        reference = weights(tmp / "reference")
        rows.append(["uninterrupted reference", f"finished {STEPS} steps in {time.perf_counter() - started:.0f} s", "0", "yes", "-"])

        for name, sig, at in (("SIGKILL mid-epoch", signal.SIGKILL, 15), ("SIGTERM mid-epoch", signal.SIGTERM, 45), ("Ctrl-C (SIGINT) mid-epoch", signal.SIGINT, 25)):
            run_dir = tmp / name.split()[0].lower().replace("-", "")
            code, err, done = interrupt(npz, run_dir, sig, at)
            step, intact = checkpoint_state(run_dir / "checkpoints" / "last.ckpt")
            outcome = f"exit {code}" + (" (killed)" if sig == signal.SIGKILL else "") + f" after {done} steps; checkpoint at step {step}"
            after = resume_and_compare(npz, run_dir, reference)
            rows.append([name, outcome, str(done - (step or 0)), "yes" if intact else "NO", after])
            if err and sig != signal.SIGKILL:
                messages.append((name, "\n".join(err)))

        # kill during a checkpoint write (a large payload makes the write take a while)
        path = tmp / "atomic" / "last.ckpt"
        path.parent.mkdir()
        from infossl.training.reliability import AtomicCheckpointIO

        AtomicCheckpointIO().save_checkpoint({"global_step": 1, "state_dict": {"w": torch.zeros(3)}}, path)
        writer = subprocess.Popen([sys.executable, "-c",
            "import sys, torch; from infossl.training.reliability import AtomicCheckpointIO; "
            "AtomicCheckpointIO().save_checkpoint({'global_step': 2, 'state_dict': {'w': torch.ones(150_000_000)}}, sys.argv[1])", str(path)])
        while not list(path.parent.glob(".last.ckpt.*.tmp")) and writer.poll() is None:
            time.sleep(0.01)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        step, intact = checkpoint_state(path)
        rows.append(["SIGKILL during a 600 MB checkpoint write", f"killed mid-write; last.ckpt still holds step {step}", "-", "yes" if intact else "NO", "-"])

        run_dir = tmp / "diverge"
        result = subprocess.run(command(npz, run_dir, "--model.optim.lr", "1e6"), capture_output=True, text=True)
        step, intact = checkpoint_state(run_dir / "checkpoints" / "last.ckpt")
        done = logged_steps(run_dir)
        line = next((l for l in result.stderr.splitlines() if "training diverged" in l), result.stderr.strip().splitlines()[-1])
        failed = len(done)
        rows.append(["learning rate 1e6 (divergence)", f"exit {result.returncode}; stopped at step {failed}; checkpoint at step {step}",
                     str(failed - (step or 0)) if step is not None else f"{failed} (no checkpoint yet)", "yes" if intact or step is None else "NO", "-"])
        messages.append(("learning rate 1e6", line))

    header = ["scenario", "what happened", "steps lost", "checkpoint intact", "after --resume"]
    table = "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows])
    print(table)
    m = machine_info()
    text = (
        "# Reliability: fault injection\n\n"
        "Generated by `python benchmarks/faults.py` (do not edit by hand): the real `infossl pretrain` CLI on a\n"
        f"CIFAR-10 subset ({TRAIN} training images, batch {BATCH}, {EPOCHS} epochs = {STEPS} steps, checkpoint every\n"
        f"{EVERY} steps, IMSVD CPU recipe, float32, deterministic). Steps lost = steps completed before the fault\n"
        "minus the step of the checkpoint a resume starts from. Resumed runs are compared with the reference run.\n\n"
        f"- commit: `{git_commit()}`, date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"- machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}\n\n"
        + table
        + "\n\nMessages printed by the CLI:\n\n"
        + "\n".join(f"- {name}:\n\n```\n{text}\n```" for name, text in messages)
        + "\n"
    )
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
