"""``infossl eval``, ``explain`` and ``compare`` end to end on tiny runs, and their input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infossl.cli.main import main
from infossl.cli.pretrain import pretrain
from infossl.data.synthetic import make_shapes

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args

SMALL_MODEL = ["--model.backbone.widths", "[8, 16, 16, 32]", "--trainer.max_epochs", "1", "--knn.every_n_epochs", "1"]


def write_npz(path: Path, train: int = 200, test: int = 100, size: int = 32, **overrides) -> Path:
    a, b = make_shapes(train, size, seed=3), make_shapes(test, size, seed=4)
    arrays = {
        "x_train": a.images.permute(0, 2, 3, 1).numpy(),
        "y_train": a.labels.numpy(),
        "x_test": b.images.permute(0, 2, 3, 1).numpy(),
        "y_test": b.labels.numpy(),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, method in (("imsvd", []), ("simclr", ["--model.method", "infossl.methods.SimCLR", "--model.method.projector", "[64, 32]"])):
        run_dir = root / name
        pretrain(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *SMALL_MODEL, *method, *run_args(run_dir)])
        out[name] = run_dir
    out["npz"] = write_npz(root / "shapes.npz")
    return out


def test_eval_writes_json_with_knn_probe_and_diagnostics_and_caches_features(runs, capsys) -> None:
    checkpoint = runs["imsvd"] / "checkpoints" / "last.ckpt"
    assert main(["eval", str(checkpoint), "--data", str(runs["npz"]), "--k", "5", "20", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((checkpoint.parent / "last.eval.json").read_text())
    assert printed == saved
    assert set(saved["knn"]) == {"knn5_top1", "knn5_top5", "knn20_top1", "knn20_top5"}
    assert 0.0 <= saved["knn"]["knn5_top1"] <= saved["knn"]["knn5_top5"] <= 1.0
    assert 0.0 <= saved["linear"]["lbfgs"]["top1"] <= 1.0
    diag = saved["diagnostics"]
    assert 1.0 <= diag["feature_rank"] <= 32 and 1.0 <= diag["effective_states"] <= 16
    assert saved["train_size"] == 200 and saved["test_size"] == 100
    cache = sorted((checkpoint.parent / "last.ckpt.features").glob("*.pt"))
    assert len(cache) == 2
    stamps = [p.stat().st_mtime_ns for p in cache]
    assert main(["eval", str(checkpoint), "--data", str(runs["npz"]), "--probe", "none", "--no-diagnostics"]) == 0
    assert [p.stat().st_mtime_ns for p in cache] == stamps  # served from the cache
    assert "kNN k=20 top-1" in capsys.readouterr().out


def test_eval_on_image_folders(runs, tmp_path) -> None:
    data = make_shapes(60, 32, seed=5)
    for split, part in (("train", slice(0, 40)), ("test", slice(40, 60))):
        for i, (image, label) in enumerate(zip(data.images[part], data.labels[part])):
            folder = tmp_path / split / f"class{int(label)}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    checkpoint = runs["simclr"] / "checkpoints" / "last.ckpt"
    out = tmp_path / "result.json"
    args = ["eval", str(checkpoint), "--train", str(tmp_path / "train"), "--test", str(tmp_path / "test"), "--k", "3"]
    assert main([*args, "--out", str(out), "--no-cache"]) == 0
    assert json.loads(out.read_text())["test_size"] == 20
    assert main(["eval", str(checkpoint), "--data", str(tmp_path / "train"), "--split-fraction", "0.25", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["train_size"], result["test_size"]) == (30, 10)


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_explain_writes_figures_and_an_index_page(runs, tmp_path, capsys) -> None:
    checkpoint = runs["imsvd"] / "checkpoints" / "last.ckpt"
    out = tmp_path / "explain"
    assert main(["explain", str(checkpoint), "--data", str(runs["npz"]), "--out", str(out), "--variables", "0", "5"]) == 0
    expected = {"spectrum.png", "feature_map.png", "joint.png", "joint_zoom.png", "state_usage.png", "states_variable0.png", "states_variable5.png"}
    assert {p.name for p in out.glob("*.png")} == expected
    page = (out / "index.html").read_text()
    for name in expected:
        assert f'src="{name}"' in page
        width, height = png_size(out / name)
        assert width > 200 and height > 150
        assert np.asarray(Image.open(out / name).convert("L")).std() > 5  # not a blank image
    # explanation of a non-IMSVD method: spectrum and feature map only
    out2 = tmp_path / "explain_simclr"
    assert main(["explain", str(runs["simclr"] / "checkpoints" / "last.ckpt"), "--data", str(runs["npz"]), "--out", str(out2)]) == 0
    assert {p.name for p in out2.glob("*.png")} == {"spectrum.png", "feature_map.png"}
    assert main(["explain", str(checkpoint), "--data", str(runs["npz"]), "--out", str(out), "--variables", "99"]) == 2
    assert "variables 0..31" in capsys.readouterr().err


def test_compare_sorts_runs_and_plots(runs, tmp_path, capsys) -> None:
    plot = tmp_path / "compare.png"
    assert main(["compare", str(runs["simclr"]), str(runs["imsvd"]), "--plot", str(plot), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.split("wrote")[0])
    assert {r["method"] for r in rows} == {"IMSVD", "SimCLR"}
    assert all(r["epochs"] == 1 and r["train_min"] > 0 and r["images_per_s"] > 0 for r in rows)
    keys = [(r["linear_top1"] if r["linear_top1"] is not None else -1) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert png_size(plot) == (1540, 528)  # 14 x 4.8 inches at 110 dpi
    assert main(["compare", str(runs["imsvd"]), "--markdown", "--no-plot"]) == 0
    assert "| run | method |" in capsys.readouterr().out
    assert main(["compare", str(tmp_path)]) == 2
    assert "not an infossl run folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: write_npz(d / "small.npz", size=16), r"16x16 images but the checkpoint was trained on 32x32; pass --resize"),
        (lambda d: write_npz(d / "gray.npz", x_test=np.zeros((5, 32, 32), np.uint8)), r"'x_test' is uint8 \(5, 32, 32\); expected uint8 \(N, H, W, 3\)"),
        (lambda d: write_npz(d / "nolabels.npz", y_train=None), r"array 'y_train' is missing"),
        (lambda d: (d / "unlabelled").mkdir() or Image.new("RGB", (32, 32)).save(d / "unlabelled" / "a.png") or d / "unlabelled", r"expected one sub-folder per class"),
        (lambda d: d / "missing.npz", r"not found"),
    ],
)
def test_eval_input_errors_are_clear(runs, tmp_path, capsys, make, message) -> None:
    data = make(tmp_path)
    assert main(["eval", str(runs["imsvd"] / "checkpoints" / "last.ckpt"), "--data", str(data), "--no-cache"]) == 2
    assert __import__("re").search(message, capsys.readouterr().err)


def test_eval_rejects_files_that_are_not_infossl_checkpoints(runs, tmp_path, capsys) -> None:
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}, "epoch": 3}, foreign)
    text = tmp_path / "notes.ckpt"
    text.write_text("hello")
    for path, message in ((foreign, "is not an infossl checkpoint"), (text, "is not a readable PyTorch checkpoint")):
        assert main(["eval", str(path), "--data", str(runs["npz"])]) == 2
        assert message in capsys.readouterr().err


def test_diagnostics_are_logged_during_training(runs) -> None:
    import csv

    rows = list(csv.DictReader((runs["imsvd"] / "metrics.csv").open()))
    logged = {k: float(r[k]) for r in rows for k in r if k.startswith("diag/") and r[k]}
    assert {"diag/feature_rank", "diag/embedding_rank", "diag/alignment", "diag/uniformity", "diag/view_mi_excess",
            "diag/effective_states", "diag/redundancy"} <= set(logged)
    assert 1.0 <= logged["diag/effective_states"] <= 16 and logged["diag/redundancy"] >= 0
    simclr = {k for r in csv.DictReader((runs["simclr"] / "metrics.csv").open()) for k in r if k.startswith("diag/") and r[k]}
    assert "diag/feature_rank" in simclr and "diag/effective_states" not in simclr  # IMSVD-only diagnostics
