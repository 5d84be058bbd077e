"""The recipes' and information objectives' targets, computed from the 2,000-step table's rows.

Definitions (the table's protocol): a side is a method's rows at 2,000 steps, batch 256, over
seeds 0 and 1; its value is the mean over the seeds and its spread the highest minus the lowest
seed. "A >= B + m" holds when mean(A) - mean(B) >= m; "A beats B by m" when the difference is at
least m and exceeds both sides' spreads; "A within B's range" when mean(A) >= B's lowest seed;
"A below B" when mean(A) < mean(B) (the batch-size drops: a method's value at batch 256 minus its
value at 64 for the same epochs, per seed).
The information objectives' side is the best (highest mean) of the shipped recipe and the variants
promoted from its proxy screens (``variants.PROMOTED``) that have both seeds, named "METHOD VARIANT".
A target is pending until each side has two seeds. benchmarks/report.py renders the verdicts in
docs/benchmarks.md; nothing there is typed by hand, so a closing note can quote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from variants import PROMOTED

SEEDS_NEEDED = 2
METRICS = {"knn20_top1": "kNN-20", "linear_top1": "linear"}
BASELINES = ("simclr", "byol", "barlow", "vicreg", "dino")
METHODS = ("simclr", "byol", "barlow", "vicreg", "dino", "imsvd", "emi", "entrec", "entrec_byol", "entrec_dino")
REFERENCES = {"plain loop (reference)": "plain loop", "random init (reference)": "random init", "supervised (reference)": "supervised"}
# what a side is: (name, precision, colour jitter); the table's default unless a target says otherwise
DEFAULT = ("32-true", "torchvision")
DROP = ("drop 256 to 64", "torchvision")  # the side of a method's batch-size drops (float32)


def mean_and_range(values: Sequence[float]) -> str:
    """``mean (min-max)`` over seeds (``mean (min to max)`` when a bound is negative), or the one value."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    sep = " to " if min(values) < 0 else "-"
    return f"{sum(values) / len(values):.2f} ({min(values):.2f}{sep}{max(values):.2f})"


@dataclass(frozen=True)
class Side:
    """One row of the table over its seeds."""

    name: str
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def spread(self) -> float:
        return max(self.values) - min(self.values)

    def text(self) -> str:
        return f"{self.name} {mean_and_range(self.values)}" + (" (one seed)" if len(self.values) == 1 else "")


@dataclass(frozen=True)
class Target:
    """A comparison the issues set: ``a`` against ``b`` (or the best of ``b``'s candidates)."""

    text: str
    a: str | Sequence[str]
    b: str | Sequence[str]
    rule: str  # "at_least", "beats", "within_range" or "below"
    margin: float = 0.0
    metrics: tuple[str, ...] = ("knn20_top1", "linear_top1")
    a_setting: tuple[str, str] = DEFAULT
    b_setting: tuple[str, str] = DEFAULT


def with_variants(method: str) -> tuple[str, ...]:
    """A method's shipped recipe and its promoted variants: the candidates of its side of a target."""
    return (method, *(f"{method} {name}" for name, (owner, _) in PROMOTED.items() if owner == method))


TARGETS = (
    Target("SimCLR >= the plain loop", "simclr", "plain loop", "at_least"),
    Target("the best method beats the plain loop by >= 2.5", METHODS, "plain loop", "beats", 2.5, ("knn20_top1",)),
    Target("IMSVD >= the best baseline", with_variants("imsvd"), BASELINES, "at_least"),
    Target("EntRec (SimCLR host) >= SimCLR", with_variants("entrec"), "simclr", "at_least"),
    Target("EntRec-BYOL within BYOL's seed range or better", with_variants("entrec_byol"), "byol", "within_range"),
    Target("EntRec-DINO within DINO's seed range or better", with_variants("entrec_dino"), "dino", "within_range"),
    Target("EMI >= random init + 10", with_variants("emi"), "random init", "at_least", 10.0, ("knn20_top1",)),
    Target("EMI within 2 of VICReg", with_variants("emi"), "vicreg", "at_least", -2.0, ("knn20_top1",)),
    Target("EntRec's batch-size drop (256 to 64) below SimCLR's", "entrec", "simclr", "below", a_setting=DROP, b_setting=DROP),
    Target("EntRec-BYOL's batch-size drop below BYOL's", "entrec_byol", "byol", "below", a_setting=DROP, b_setting=DROP),
    Target("bf16 >= float32 minus float32's range (SimCLR, ColorJiggle)", "simclr", "simclr", "within_range",
           metrics=("knn20_top1",), a_setting=("bf16-mixed", "jiggle"), b_setting=("32-true", "jiggle")),
)


def sides(rows: Iterable[dict[str, Any]], metric: str) -> dict[tuple[str, str, str], Side]:
    """The shipped recipes, their promoted variants ("METHOD VARIANT") and the references at batch 256,
    keyed by (name, precision, jitter)."""
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    for r in rows:
        if r.get("batch_size", 256) != 256 or r.get(metric) is None:
            continue
        name = REFERENCES.get(r["method"], r["method"])
        variant = r.get("variant") or "shipped recipe"
        if name == r["method"] and variant != "shipped recipe":
            if PROMOTED.get(variant, ("",))[0] != r["method"]:
                continue
            name = f"{r['method']} {variant}"
        # references record no precision (random init) or jitter (the plain loop has its own augmentation)
        key = (name, r.get("precision") or DEFAULT[0], r.get("jitter_style") or DEFAULT[1])
        values.setdefault(key, {})[r["seed"]] = r[metric]
    return {key: Side(key[0], tuple(v for _, v in sorted(seeds.items()))) for key, seeds in values.items()}


def by_batch(rows: Iterable[dict[str, Any]], variant: str = "shipped recipe") -> dict[tuple[str, int], dict[int, dict[str, Any]]]:
    """The float32 rows with torchvision's jitter of one variant (the shipped recipes by default), by
    (method, batch size) and seed: the rows of the batch-size and multi-crop tables."""
    at: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
    for r in rows:
        if ((r.get("variant") or "shipped recipe") == variant and (r.get("precision") or DEFAULT[0]) == DEFAULT[0]
                and (r.get("jitter_style") or DROP[1]) == DROP[1]):
            at.setdefault((r["method"], r.get("batch_size", 256)), {})[r["seed"]] = r
    return at


def drops(rows: Iterable[dict[str, Any]], metric: str) -> dict[tuple[str, str, str], Side]:
    """Each method's value at batch 256 minus at 64 (the same epochs), per seed that has both."""
    at = by_batch(rows)
    table = {}
    for method in {method for method, batch in at if batch == 64}:
        high, low = at.get((method, 256), {}), at[(method, 64)]
        seeds = [s for s in sorted(set(high) & set(low)) if high[s].get(metric) is not None and low[s].get(metric) is not None]
        if seeds:
            table[(method, *DROP)] = Side(method, tuple(high[s][metric] - low[s][metric] for s in seeds))
    return table


def pick(table: dict[tuple[str, str, str], Side], names: str | Sequence[str], setting: tuple[str, str]) -> tuple[Side | None, str]:
    """The side ``names`` means: one row, or the best (highest mean) of the candidates that have
    every seed, with a note of the candidates still missing seeds."""
    if isinstance(names, str):
        return table.get((names, *setting)), ""
    candidates = [side for name in names if (side := table.get((name, *setting)))]
    complete = [side for side in candidates if len(side.values) >= SEEDS_NEEDED]
    missing = [name for name in names if name not in {side.name for side in complete}]
    note = f"best of {len(complete)} with {SEEDS_NEEDED} seeds; not yet: {', '.join(missing)}" if missing else ""
    return (max(complete, key=lambda side: side.mean) if complete else None), note


def verdict(target: Target, a: Side | None, b: Side | None) -> tuple[str, str]:
    """(difference, verdict) of one target on one metric."""
    if a is None or b is None or len(a.values) < SEEDS_NEEDED or len(b.values) < SEEDS_NEEDED:
        return "-", "pending (seeds missing)"
    difference = a.mean - b.mean
    if target.rule == "at_least":
        met = difference >= target.margin
    elif target.rule == "beats":
        met = difference >= target.margin and difference > a.spread and difference > b.spread
    elif target.rule == "within_range":
        met = a.mean >= b.low
    elif target.rule == "below":
        met = difference < 0
    else:
        raise ValueError(f"target {target.text!r}: unknown rule {target.rule!r}; expected at_least, beats, within_range or below")
    return f"{difference:+.2f}", "met" if met else "not met"


def describe(side: Side | None, note: str) -> str:
    """A side as the targets' table shows it, with a "best of" note."""
    return (side.text() if side else "no rows") + (f" [{note}]" if note else "")


def evaluate(rows: list[dict[str, Any]]) -> list[list[str]]:
    """One line per target and metric: target, metric, A, B, difference, verdict. A verdict that
    candidates still missing seeds could overturn says "so far"."""
    tables = {metric: sides(rows, metric) | drops(rows, metric) for metric in METRICS}
    lines = []
    for target in TARGETS:
        for metric in target.metrics:
            a, a_note = pick(tables[metric], target.a, target.a_setting)
            b, b_note = pick(tables[metric], target.b, target.b_setting)
            difference, outcome = verdict(target, a, b)
            # a "best of" with candidates still missing can only rise: it settles a target it fails
            # (on the B side) or meets (on the A side), and leaves the other outcome open
            if (b_note and outcome == "met") or (a_note and outcome == "not met"):
                outcome += " so far"
            lines.append([target.text, METRICS[metric], describe(a, a_note), describe(b, b_note), difference, outcome])
    return lines
