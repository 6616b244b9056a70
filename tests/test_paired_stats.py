"""The reports' shared statistics against hand-computed values."""

import math

import pytest

from dsiam_jax.jobs import ablation, paired_stats, run_report


def test_mean_std_skips_missing_values():
    assert paired_stats.mean_std([0.2, None, 0.4]) == pytest.approx((0.3, math.sqrt(0.02)))
    assert paired_stats.mean_std([0.5]) == (0.5, 0.0)
    assert all(math.isnan(v) for v in paired_stats.mean_std([None]))


def test_paired_difference_averages_trackers_per_sequence():
    # a1, a2 averaged per sequence: s1 (0.6 + 0.4) / 2 = 0.5, s2 0.8; s3 dropped (None)
    report = {
        "trackers": {
            "a1": {
                "sequences": {
                    "s1": {"success_auc": 0.6},
                    "s2": {"success_auc": 0.9},
                    "s3": {"success_auc": 0.3},
                }
            },
            "a2": {
                "sequences": {
                    "s1": {"success_auc": 0.4},
                    "s2": {"success_auc": 0.7},
                    "s3": {"success_auc": None},
                }
            },
            "b": {
                "sequences": {
                    "s1": {"success_auc": 0.45},
                    "s2": {"success_auc": 0.6},
                    "s3": {"success_auc": 0.2},
                }
            },
        }
    }
    mean, se, n = run_report.paired_difference(report, ["a1", "a2"], "b")
    # diffs 0.05 and 0.2: mean 0.125, sample std 0.106066, SE = std / sqrt(2) = 0.075
    assert n == 2
    assert mean == pytest.approx(0.125)
    assert se == pytest.approx(0.075)
    # a1 alone also scored s3: diffs 0.15, 0.3, 0.1
    assert run_report.paired_difference(report, ["a1"], "b")[:3:2] == (pytest.approx(0.55 / 3), 3)
    one = paired_stats.paired_difference(
        [{"s1": {"success_auc": 0.7}}], {"s1": {"success_auc": 0.4}}
    )
    assert one[2] == 1 and one[0] == pytest.approx(0.3) and math.isnan(one[1])


def test_two_standard_error_rule():
    assert paired_stats.beyond_two_se(0.21, 0.1) is True
    assert paired_stats.beyond_two_se(-0.21, 0.1) is True
    assert paired_stats.beyond_two_se(0.19, 0.1) is False
    assert paired_stats.beyond_two_se(0.5, 0.0) is None
    assert paired_stats.beyond_two_se(0.5, float("nan")) is None


def test_ablation_effect_uses_seed_spread():
    rows = {
        "x": {"success_auc": (0.60, 0.01), "seeds": {0: {}, 1: {}, 2: {}}},
        "y": {"success_auc": (0.55, 0.01), "seeds": {0: {}, 1: {}, 2: {}}},
        "z": {"success_auc": (0.59, 0.05), "seeds": {0: {}, 1: {}, 2: {}}},
    }
    # SE = sqrt(0.01^2 / 3 + 0.01^2 / 3) = 0.00816: +0.050 is beyond 2 SE
    assert "+0.050" in ablation.effect(rows, "x", "y")
    assert "likely a real effect" in ablation.effect(rows, "x", "y")
    # SE = sqrt(0.01^2 / 3 + 0.05^2 / 3) = 0.0294: +0.010 is within
    assert "not distinguishable" in ablation.effect(rows, "x", "z")
    single = {k: {**v, "seeds": {0: {}}} for k, v in rows.items()}
    assert "single seed" in ablation.effect(single, "x", "y")


@pytest.mark.parametrize(
    "gap, se, words",
    [
        (
            0.056,
            0.019,
            "wider than the 0.02 the method aims for, by less than two",
        ),  # 0.036 < 0.038
        (0.015, 0.010, "narrower than the 0.02 the method aims for, by less than two"),
        (0.070, 0.010, "**wider than** the 0.02 the method aims for, beyond two"),
        (-0.010, 0.010, "**within** the 0.02 the method aims for, beyond two"),
    ],
)
def test_teacher_gap_verdict_names_the_side_of_the_target(gap, se, words):
    comparisons = {"teacher_minus_distilled": {"mean": gap, "se": se, "n": 48}}
    text = run_report.teacher_gap_verdict(comparisons)
    assert words in text
    assert f"{gap:+.3f}" in text and "48 test sequences" in text


def test_per_sequence_mean_keeps_sequences_every_tracker_scored():
    a = {"s1": {"success_auc": 0.2}, "s2": {"success_auc": 0.4}, "s3": {"success_auc": 0.9}}
    b = {"s1": {"success_auc": 0.6}, "s2": {"success_auc": None}}
    assert paired_stats.per_sequence_mean([a, b]) == {
        "s1": {"success_auc": pytest.approx(0.4)},
        "s2": {"success_auc": None},
    }
