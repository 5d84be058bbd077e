"""Figures that explain what an encoder learned, and a page that shows them.

Any method: the singular-value spectrum of the embedding and of the backbone
features, and a 2-D map of the features (PCA; UMAP when installed) coloured by
label. IMSVD (Niu et al., as in the paper's explainability figures): the data-averaged cross-view
joint matrix J as a heatmap (full and zoomed), each variable's state usage, and
for chosen variables the images that put the most mass on each state.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from infossl import diagnostics as dg
from infossl.errors import InputError


@dataclass
class Figure:
    file: str
    title: str
    caption: str


@dataclass
class Explanation:
    """The figures written to a folder, in page order, and the numbers shown with them."""

    folder: Path
    figures: list[Figure] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)


# ------------------------------------------------------------ any method
def plot_spectrum(features: Tensor, embedding: Tensor, path: Path) -> Figure:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, z in (("backbone features", features), ("embedding", embedding)):
        s = dg.singular_spectrum(z).numpy()
        ax.semilogy(range(1, len(s) + 1), s, label=f"{name} ({z.shape[1]}-d, effective rank {dg.effective_rank(z):.1f})")
    ax.set_xlabel("singular value index")
    ax.set_ylabel("normalized singular value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
    return Figure(
        path.name,
        "Singular-value spectrum",
        "Singular values of the centred backbone features and embeddings (normalized to sum 1). "
        "A fast drop means few directions carry the information (dimensional collapse); "
        "the effective rank (RankMe) is exp of the entropy of these values.",
    )


def two_d_map(features: Tensor, kind: str = "pca") -> tuple[Tensor, str]:
    """A 2-D map of the features: PCA, or UMAP when asked for and installed."""
    if kind == "umap":
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            kind = "pca"
        else:
            points = umap.UMAP(n_components=2, random_state=0).fit_transform(features.numpy())
            return torch.as_tensor(points), "UMAP"
    x = features.double() - features.double().mean(dim=0)
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    return x @ vh[:2].T, "PCA"


def plot_feature_map(features: Tensor, labels: Tensor | None, classes: tuple[str, ...], path: Path, kind: str = "pca") -> Figure:
    plt = _pyplot()
    points, name = two_d_map(features, kind)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
    else:
        cmap = plt.get_cmap("tab10" if int(labels.max()) < 10 else "tab20")
        for c in sorted(set(labels.tolist())):
            keep = labels == c
            name_c = classes[c] if c < len(classes) else str(c)
            ax.scatter(points[keep, 0], points[keep, 1], s=2, alpha=0.6, color=cmap(c % cmap.N), label=name_c)
        ax.legend(markerscale=5, fontsize=7, loc="best", ncol=2)
    ax.set_xlabel(f"{name} 1")
    ax.set_ylabel(f"{name} 2")
    _save(fig, path)
    return Figure(
        path.name,
        f"Backbone features ({name})",
        f"The test images' backbone features projected to two dimensions with {name}, coloured by label. "
        "Classes that form separate groups are easy for a linear probe.",
    )


# ------------------------------------------------------------------ IMSVD
def plot_joint(joint: Tensor, num_states: int, path: Path, variables: list[int] | None = None) -> Figure:
    """Heatmap of J (log colour scale), all variables or the blocks of ``variables``."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    k = num_states
    if variables is not None:
        index = torch.cat([torch.arange(v * k, (v + 1) * k) for v in variables])
        joint = joint[index][:, index]
    m = joint.shape[0] // k
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    values = joint.numpy()
    floor = max(float(values[values > 0].min()) if (values > 0).any() else 1e-12, 1e-9)
    image = ax.imshow(values.clip(min=floor), cmap="magma", norm=LogNorm(vmin=floor, vmax=float(values.max())), interpolation="nearest")
    for b in range(1, m):  # block boundaries
        ax.axhline(b * k - 0.5, color="white", lw=0.3 if m > 8 else 0.8)
        ax.axvline(b * k - 0.5, color="white", lw=0.3 if m > 8 else 0.8)
    names = variables if variables is not None else list(range(m))
    if m <= 16:
        ticks = [b * k + (k - 1) / 2 for b in range(m)]
        ax.set_xticks(ticks, [f"v{v}" for v in names])
        ax.set_yticks(ticks, [f"v{v}" for v in names])
    ax.set_xlabel("view 2: variable / state")
    ax.set_ylabel("view 1: variable / state")
    fig.colorbar(image, ax=ax, label="joint probability")
    _save(fig, path)
    if variables is None:
        return Figure(
            path.name,
            "Joint distribution of the discrete variables (all)",
            f"J = P1^T P2 / N averaged over the data: {m} variables x {k} states of view 1 (rows) against view 2 "
            "(columns). A sharp diagonal inside the diagonal blocks means a variable takes the same state in both "
            "views (transform invariance); flat off-diagonal blocks mean variables are independent (no redundancy).",
        )
    return Figure(
        path.name,
        f"Joint distribution, variables {', '.join(map(str, variables))}",
        "A zoom on a few variables' blocks of the same matrix.",
    )


def plot_state_usage(marginals: Tensor, path: Path) -> Figure:
    """Effective number of states per variable (bars) and the marginals (heatmap)."""
    plt = _pyplot()
    m, k = marginals.shape
    usage = dg.effective_states(marginals)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(6.4, m * 0.12), 6.4), gridspec_kw={"height_ratios": [1, 1.2]})
    top.bar(range(m), usage.numpy(), color="tab:blue")
    top.axhline(k, color="grey", ls="--", lw=0.8, label=f"K = {k}")
    top.set_xlim(-0.5, m - 0.5)
    top.set_ylabel("effective states")
    top.legend(fontsize=8)
    image = bottom.imshow(marginals.T.numpy(), aspect="auto", cmap="viridis", interpolation="nearest")
    bottom.set_xlabel("variable")
    bottom.set_ylabel("state")
    fig.colorbar(image, ax=bottom, label="marginal probability", orientation="horizontal", pad=0.2)
    _save(fig, path)
    return Figure(
        path.name,
        "State usage per variable",
        f"Top: each variable's effective number of states on the un-augmented images, exp(entropy of its marginal), between 1 (one state "
        f"always) and K = {k} (all states equally used); mean {float(usage.mean()):.2f}. Bottom: the marginals.",
    )


def plot_state_images(probabilities: Tensor, images: Tensor, variable: int, path: Path, states: int = 8, per_state: int = 8) -> Figure:
    """For one variable, its most used states (rows) and the images that put the
    most mass on each (columns, most first)."""
    plt = _pyplot()
    p = probabilities[:, variable, :]  # (N, K)
    order = p.mean(dim=0).argsort(descending=True)[:states]
    fig, axes = plt.subplots(len(order), per_state, figsize=(per_state * 0.9, len(order) * 0.95), squeeze=False)
    for row, state in enumerate(order.tolist()):
        top = p[:, state].topk(min(per_state, p.shape[0])).indices
        for col in range(per_state):
            ax = axes[row][col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(top):
                ax.imshow(images[top[col]].permute(1, 2, 0).numpy(), interpolation="nearest")
            if col == 0:
                ax.set_ylabel(f"s{state}\n{100 * float(p[:, state].mean()):.1f}%", fontsize=7, rotation=0, labelpad=18, va="center")
    _save(fig, path)
    return Figure(
        path.name,
        f"Variable {variable}: images per state",
        f"Rows: the {len(order)} most used states of variable {variable} (share of the data's mass on the left); "
        f"columns: the images that put the most probability on that state. Images in a row share what the state "
        "encodes.",
    )


# ------------------------------------------------------------------ page
def write_index(explanation: Explanation, title: str) -> Path:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in explanation.summary.items())
    sections = "".join(
        f'<figure><h2>{html.escape(f.title)}</h2><img src="{html.escape(f.file)}" alt="{html.escape(f.title)}">'
        f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
        for f in explanation.figures
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
        "img{max-width:100%;border:1px solid #ddd}figure{margin:2em 0}figcaption{color:#555;font-size:0.9em}"
        "table{border-collapse:collapse}th,td{text-align:left;padding:2px 12px;border-bottom:1px solid #eee}"
        f"</style></head><body><h1>{html.escape(title)}</h1><table>{rows}</table>{sections}</body></html>\n"
    )
    path = explanation.folder / "index.html"
    path.write_text(page)
    return path


def explain_checkpoint(
    checkpoint: str | Path,
    data,
    out_dir: str | Path,
    variables: list[int] | None = None,
    zoom: int = 4,
    map_kind: str = "pca",
    max_images: int = 5000,
    batch_size: int = 512,
    device: str = "cpu",
) -> Explanation:
    """Write the figures and ``index.html`` for ``checkpoint`` on ``data`` (an ImageSet)."""
    from infossl.encoder import load_method
    from infossl.eval.evaluate import embed_views
    from infossl.eval.features import encode_images

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder, method = load_method(checkpoint, device)
    if len(data) > max_images:
        data = data.subset(torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:max_images])
    if len(data) < 2:
        raise InputError(f"explain needs at least 2 images, got {len(data)}")
    features = encode_images(encoder, data.images, batch_size, device, desc="features")
    with torch.no_grad():
        embedding = torch.cat([method.embed(f.to(device)).double().cpu() for f in torch.split(features, batch_size)])
    z1, z2 = embed_views(encoder, method, data.images, batch_size=batch_size, device=device)

    explanation = Explanation(out)
    explanation.summary = {
        "checkpoint": str(checkpoint),
        "method": method.name,
        "images": str(len(data)),
        "effective rank (features / embedding)": f"{dg.effective_rank(features):.1f} / {dg.effective_rank(embedding):.1f}",
        "alignment / uniformity": f"{dg.alignment(z1, z2):.3f} / {dg.uniformity(z1[:4096]):.3f}",
    }
    explanation.figures.append(plot_spectrum(features, embedding, out / "spectrum.png"))
    explanation.figures.append(plot_feature_map(features, data.labels, data.classes, out / "feature_map.png", map_kind))

    if hasattr(method, "state_probabilities"):
        k = method.num_states
        p1, p2 = method.state_probabilities(z1), method.state_probabilities(z2)
        joint = dg.joint_matrix(p1, p2)
        clean = method.state_probabilities(embedding)
        m = clean.shape[1]
        bad = [v for v in variables or [] if not 0 <= v < m]
        if bad:
            raise InputError(f"--variables {bad}: this embedding has variables 0..{m - 1}")
        usage = dg.effective_states(clean.mean(dim=0))
        chosen = variables or usage.argsort(descending=True)[:3].tolist()
        diag = method.diagnostics(z1, z2)
        explanation.summary.update(
            {
                "variables x states": f"{m} x {k}",
                "effective states on augmented views (mean / min)": f"{diag['effective_states']:.2f} / {diag['effective_states_min']:.2f}",
                "invariant information / redundancy on augmented views (nats)": f"{diag['invariant_information']:.3f} / {diag['redundancy']:.3f}",
            }
        )
        explanation.figures.append(plot_joint(joint, k, out / "joint.png"))
        explanation.figures.append(plot_joint(joint, k, out / "joint_zoom.png", variables=chosen[:zoom] if variables else list(range(min(zoom, m)))))
        explanation.figures.append(plot_state_usage(clean.mean(dim=0), out / "state_usage.png"))
        for v in chosen:
            explanation.figures.append(plot_state_images(clean, data.images, v, out / f"states_variable{v}.png"))
    write_index(explanation, f"What {Path(checkpoint).name} learned ({method.name})")
    return explanation
