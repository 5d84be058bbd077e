"""benchmarks/claims.py: which rows make a side, and the verdict rules of the table's targets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import claims


def row(method: str, seed: int, knn: float, linear: float | None = None, **extra) -> dict:
    return {"method": method, "seed": seed, "knn20_top1": knn, "linear_top1": linear, "variant": "shipped recipe",
            "precision": "32-true", "jitter_style": "torchvision", "batch_size": 256, **extra}


def verdicts(rows: list[dict]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(line[0], line[1]): (line[4], line[5]) for line in claims.evaluate(rows)}


def test_mean_and_range_reads_unambiguously_with_negative_bounds() -> None:
    assert claims.mean_and_range([61.0, 62.5]) == "61.75 (61.00-62.50)"
    assert claims.mean_and_range([-6.21, -4.93]) == "-5.57 (-6.21 to -4.93)"
    assert claims.mean_and_range([-0.5, 1.5]) == "0.50 (-0.50 to 1.50)"
    assert claims.mean_and_range([3.0]) == "3.00"


def test_sides_keep_the_shipped_recipes_and_references_at_batch_256() -> None:
    rows = [row("simclr", 0, 60.0), row("simclr", 1, 62.0), row("simclr", 0, 99.0, variant="plain_recipe"),
            row("simclr", 0, 98.0, batch_size=64), row("simclr", 0, 50.0, jitter_style="jiggle"),
            {"method": "plain loop (reference)", "seed": 0, "knn20_top1": 61.0, "variant": None, "precision": "32-true",
             "jitter_style": None}]
    table = claims.sides(rows, "knn20_top1")
    assert table[("simclr", "32-true", "torchvision")].values == (60.0, 62.0)
    assert table[("simclr", "32-true", "jiggle")].values == (50.0,)
    assert table[("plain loop", "32-true", "torchvision")].values == (61.0,)
    assert len(table) == 3
    side = table[("simclr", "32-true", "torchvision")]
    assert (side.mean, side.low, side.spread) == (61.0, 60.0, 2.0)


def plain(seed: int, knn: float, linear: float) -> dict:
    return {"method": "plain loop (reference)", "seed": seed, "knn20_top1": knn, "linear_top1": linear}


def test_at_least_compares_means_and_waits_for_two_seeds() -> None:
    target = ("SimCLR >= the plain loop", "kNN-20")
    assert verdicts([row("simclr", 0, 61.0), plain(0, 61.0, 0), plain(1, 61.0, 0)])[target] == ("-", "pending (seeds missing)")
    met = [row("simclr", 0, 61.0), row("simclr", 1, 61.2), plain(0, 60.0, 0), plain(1, 62.0, 0)]
    assert verdicts(met)[target] == ("+0.10", "met")  # within the ranges, but >= means a mean difference >= 0
    unmet = [row("simclr", 0, 60.0), row("simclr", 1, 61.0), plain(0, 61.0, 0), plain(1, 61.0, 0)]
    assert verdicts(unmet)[target] == ("-0.50", "not met")


def test_beats_needs_the_margin_and_a_difference_beyond_both_spreads() -> None:
    target = ("the best method beats the plain loop by >= 2.5", "kNN-20")
    base = [plain(0, 60.0, 0), plain(1, 60.0, 0)]
    wide = [row("vicreg", 0, 61.0), row("vicreg", 1, 65.0)]  # +3.0, but its spread is 4
    assert verdicts(base + wide)[target][1].startswith("not met")
    narrow = [row("vicreg", 0, 62.8), row("vicreg", 1, 63.2)]
    assert verdicts(base + narrow)[target] == ("+3.00", "met")  # a better method could only raise the best
    short = [row("vicreg", 0, 62.3), row("vicreg", 1, 62.3)]  # beyond the spreads, under the margin
    assert verdicts(base + short)[target][1] == "not met so far"


def promoted_rows(method: str, knn: float) -> list[dict]:
    """Both seeds of every promoted variant of ``method`` at ``knn``."""
    return [row(method, seed, knn, variant=name.split(" ", 1)[1]) for name in claims.with_variants(method)[1:] for seed in (0, 1)]


def test_best_of_picks_the_highest_complete_candidate() -> None:
    rows = [row("imsvd", 0, 63.0), row("imsvd", 1, 63.0), row("simclr", 0, 61.0), row("simclr", 1, 61.0),
            row("vicreg", 0, 64.0), row("vicreg", 1, 64.0), row("byol", 0, 70.0)]  # BYOL's one seed does not count
    rows += promoted_rows("imsvd", 50.0)  # IMSVD's side is its best of recipe and promoted variants
    lines = {(line[0], line[1]): line for line in claims.evaluate(rows)}
    line = lines[("IMSVD >= the best baseline", "kNN-20")]
    assert line[3].startswith("vicreg 64.00") and "not yet: byol, barlow, dino" in line[3]
    assert (line[4], line[5]) == ("-1.00", "not met")  # the missing baselines could only raise the bar
    rows[4:6] = [row("vicreg", 0, 62.0), row("vicreg", 1, 62.0)]
    line = {(line[0], line[1]): line for line in claims.evaluate(rows)}[("IMSVD >= the best baseline", "kNN-20")]
    assert (line[4], line[5]) == ("+1.00", "met so far")


def test_within_range_and_margins() -> None:
    rows = [row("entrec_byol", 0, 55.0, 58.0), row("entrec_byol", 1, 55.4, 58.0),
            row("byol", 0, 55.0, 59.0), row("byol", 1, 57.0, 60.0),
            row("emi", 0, 56.0), row("emi", 1, 56.0), row("vicreg", 0, 58.0), row("vicreg", 1, 58.0),
            *({"method": "random init (reference)", "seed": s, "knn20_top1": 46.0} for s in (0, 1))]
    got = verdicts(rows)
    assert got[("EntRec-BYOL within BYOL's seed range or better", "kNN-20")] == ("-0.80", "met")  # 55.2 >= 55.0
    assert got[("EntRec-BYOL within BYOL's seed range or better", "linear")] == ("-1.50", "not met")  # 58.0 < 59.0
    assert got[("EMI >= random init + 10", "kNN-20")] == ("+10.00", "met")
    assert got[("EMI within 2 of VICReg", "kNN-20")] == ("-2.00", "met")


def test_an_unknown_rule_is_a_clear_error() -> None:
    target = claims.Target("x", "a", "b", "ahead")
    side = claims.Side("a", (1.0, 2.0))
    with pytest.raises(ValueError, match="unknown rule 'ahead'"):
        claims.verdict(target, side, side)


def test_batch_size_drops_are_per_seed_differences_and_smaller_is_better() -> None:
    rows = [row("entrec", s, 60.0 + s) for s in (0, 1)] + [row("entrec", s, 58.0 + 2 * s, batch_size=64) for s in (0, 1)]
    rows += [row("simclr", s, 61.0) for s in (0, 1)] + [row("simclr", s, 57.0, batch_size=64) for s in (0, 1)]
    rows += [row("simclr", 0, 50.0, batch_size=128)]  # 128 is shown in the table, not in the drop
    drops = claims.drops(rows, "knn20_top1")
    assert drops[("entrec", *claims.DROP)].values == (2.0, 1.0)
    assert drops[("simclr", *claims.DROP)].values == (4.0, 4.0)
    assert verdicts(rows)[("EntRec's batch-size drop (256 to 64) below SimCLR's", "kNN-20")] == ("-2.50", "met")


def test_multicrop_table_pairs_each_seed_with_its_two_view_row() -> None:
    import report

    rows = [row("simclr", s, 60.0 + s, 64.0) for s in (0, 1)]
    rows += [row("simclr", 0, 62.0, 63.0, variant="multicrop"), row("simclr", 1, 61.5, 65.0, variant="multicrop")]
    rows += [row("simclr", 0, 99.0, 99.0, variant="multicrop", jitter_style="jiggle"),  # another jitter: not compared
             row("dino", 0, 55.0, 60.0, variant="multicrop")]  # no two-view row: no difference
    lines = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in report.render_multicrop(rows).splitlines()
             if line.startswith(("| simclr", "| dino"))}
    assert lines["simclr"][1:6] == ["0.14-1", "0, 1", "60.50 (60.00-61.00)", "61.75 (61.50-62.00)", "1.25 (0.50-2.00)"]
    assert lines["simclr"][6:9] == ["64.00 (64.00-64.00)", "64.00 (63.00-65.00)", "0.00 (-1.00 to 1.00)"]
    assert lines["dino"][3:6] == ["-", "55.00", "-"]
    # one multi-crop seed is compared with the two-view row of that seed only
    one = report.render_multicrop([*rows[:2], rows[2]])
    assert "| simclr | 0.14-1 | 0 | 60.00 | 62.00 | 2.00 | 64.00 | 63.00 | -1.00 |" in one
    # local crops at the recipe's own global crops: a row of their own, without a cost
    local = report.render_multicrop([*rows[:2], row("simclr", 1, 61.0, 66.0, variant="local_crops")])
    assert "| simclr | the recipe's | 1 | 61.00 | 61.00 | 0.00 | 64.00 | 66.00 | 2.00 | - |" in local
    assert report.render_multicrop([row("simclr", 0, 60.0)]) == ""


def test_variant_table_pairs_each_promoted_variant_with_the_shipped_rows() -> None:
    import report

    rows = [row("imsvd", s, 58.0 + s, 60.0) for s in (0, 1)]
    rows += [row("imsvd", 0, 59.0, 61.0, variant="k8"), row("imsvd", 1, 58.5, 62.0, variant="k8")]
    rows += [row("imsvd", 0, 40.0, 40.0, variant="multicrop"),  # multi-crop has its own table
             row("imsvd", 0, 99.0, 99.0, variant="k8", batch_size=64)]  # another batch: not compared
    text = report.render_variants(rows)
    assert "| imsvd | k8 | 0, 1 | 58.50 (58.00-59.00) | 58.75 (58.50-59.00) | 0.25 (-0.50 to 1.00) |" in text
    assert "| 60.00 (60.00-60.00) | 61.50 (61.00-62.00) | 1.50 (1.00-2.00) |" in text
    assert "| imsvd | multicrop |" not in text and "99.00" not in text
    assert report.render_variants(rows[:2] + rows[4:5]) == ""


def test_an_information_objectives_side_is_its_best_of_recipe_and_promoted_variants() -> None:
    candidates = claims.with_variants("entrec_dino")
    assert candidates[0] == "entrec_dino" and "entrec_dino teacher_t007" in candidates
    rows = [row("dino", s, 58.0) for s in (0, 1)] + [row("entrec_dino", s, 55.0) for s in (0, 1)]
    rows += [row("entrec_dino", s, 57.0 + s, variant="teacher_t007") for s in (0, 1)]
    rows += [row("entrec_dino", s, 70.0, variant="multicrop") for s in (0, 1)]  # not promoted: not a candidate
    rows += [row("dino", s, 99.0, variant="teacher_t007") for s in (0, 1)]  # another method's variant: ignored
    table = claims.sides(rows, "knn20_top1")
    assert table[("entrec_dino teacher_t007", "32-true", "torchvision")].values == (57.0, 58.0)
    assert table[("dino", "32-true", "torchvision")].values == (58.0, 58.0)
    line = {(line[0], line[1]): line for line in claims.evaluate(rows)}[("EntRec-DINO within DINO's seed range or better", "kNN-20")]
    assert line[2].startswith("entrec_dino teacher_t007 57.50") and (line[4], line[5]) == ("-0.50", "not met")
    # with one promoted variant still missing a seed, a verdict it could overturn says so
    line = {(line[0], line[1]): line for line in claims.evaluate(rows[:5])}[("EntRec-DINO within DINO's seed range or better", "kNN-20")]
    assert line[2].startswith("entrec_dino 55.00") and "not yet: entrec_dino teacher_t007" in line[2] and line[5] == "not met so far"
