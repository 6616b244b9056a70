"""The scoring-convention switch (`metrics.sequence_metrics(..., convention=)`) on shared
test vectors whose expected values are worked out by hand below.

Shared vectors (5 frames, boxes x, y, w, h):

    frame  ground truth        visible  prediction        IoU    centre error
    0      10,10,10,10         yes      13,10,10,10       7/13   3 px (0.3 normalised)
    1      10,10,10,10         yes      10,10,10,10       1      0
    2       0,10,10,10 (x = 0) yes       5,10,10,10       1/3    5 px (0.5)
    3      NaN (unannotated)   yes      30,30,10,10       -      -
    4      20,20,10,10         no       60,20, 0,10 (w=0) 0      35 px (3.5)

With the 21 thresholds t = 0, 0.05, .., 1 and IoU > t, a frame of IoU u succeeds at
ceil(20 u) thresholds: 7/13 -> 11, 1 -> 20 (never above t = 1), 1/3 -> 7, 0 -> 0;
the success AUC is the sum of those counts / (21 * denominator).
"""

import numpy as np
import pytest

from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation import metrics as M

GT = np.array(
    [[10, 10, 10, 10], [10, 10, 10, 10], [0, 10, 10, 10], [np.nan] * 4, [20, 20, 10, 10]], float
)
VISIBLE = np.array([1, 1, 1, 1, 0], bool)
PRED = np.array(
    [[13, 10, 10, 10], [10, 10, 10, 10], [5, 10, 10, 10], [30, 30, 10, 10], [60, 20, 0, 10]],
    float,
)

# convention -> (success AUC, precision at 20 px, normalised precision at 0.2)
EXPECTED = {
    # annotated frames 0, 1, 2, 4 (visibility not used): counts 11 + 20 + 7 + 0 over 4
    # frames; errors 3, 0, 5, 35 -> 3 of 4 <= 20; normalised 0.3, 0, 0.5, 3.5 -> 1 of 4.
    ("got10k", ""): (38 / 84, 3 / 4, 1 / 4),
    # absent frame 4 dropped, denominator all 5 frames; IoU only where x, y, w, h > 0
    # (frames 0, 1: 11 + 20); centre errors 3, 0, 5 and -1 for frame 3 (NaN centre)
    # -> 4 of 5; normalised 0.3, 0, 0.5, -1 -> 2 of 5.
    ("pysot", ""): (31 / 105, 4 / 5, 2 / 5),
    # frame 0 := ground truth; valid = annotated and visible (0, 1, 2), denominator 3:
    # IoUs 1, 1, 1/3 -> 20 + 20 + 7; errors 0, 0, 5 -> 3 of 3; normalised 0, 0, 0.5 and
    # -1 for the invalid frames 3, 4 -> 4 successes over 3 frames (pytracking's quirk).
    ("pytracking", ""): (47 / 63, 3 / 3, 4 / 3),
    # LaSOT in pytracking: denominator all 5 frames, invisible frame 4 gets infinite
    # normalised error: normalised successes 0, 1, 3 -> 3 of 5.
    ("pytracking", "lasot"): (47 / 105, 3 / 5, 3 / 5),
    # frame 0 := ground truth; absent frame 4 removed, denominator 5; IoU only where
    # x, y, w, h > 0 (frames 0, 1: 20 + 20); errors of frames 2, 3 are -1 (successes):
    # 0, 0, -1, -1 -> 4 of 5, normalised the same.
    ("lasot", ""): (40 / 105, 4 / 5, 4 / 5),
}


@pytest.mark.parametrize("convention,dataset", list(EXPECTED))
def test_each_convention_on_the_shared_vectors(convention, dataset):
    m = M.sequence_metrics(PRED, GT, VISIBLE, convention=convention, dataset=dataset)
    auc, p20, norm = EXPECTED[(convention, dataset)]
    assert m["success_auc"] == pytest.approx(auc)
    assert m["precision_20"] == pytest.approx(p20)
    assert m["norm_precision"] == pytest.approx(norm)
    # GOT-10k numbers never change: frames 2..N annotated and visible = frames 1, 2,
    # IoUs 1 and 1/3.
    assert m["ao"] == pytest.approx(2 / 3)
    assert m["sr50"] == pytest.approx(1 / 2) and m["sr75"] == pytest.approx(1 / 2)


def test_got10k_is_the_default_and_matches_todays_numbers():
    assert M.sequence_metrics(PRED, GT, VISIBLE) == M.sequence_metrics(
        PRED, GT, VISIBLE, convention="got10k"
    )


def test_success_threshold_is_strict_so_a_perfect_tracker_scores_20_of_21():
    gt = np.array([[5, 5, 20, 10]] * 4, float)
    for convention in M.CONVENTIONS:
        m = M.sequence_metrics(gt.copy(), gt, convention=convention)
        assert m["success_auc"] == pytest.approx(20 / 21), convention
        assert m["precision_20"] == pytest.approx(1.0), convention


def test_first_frame_is_replaced_by_ground_truth_only_in_pytracking_and_lasot():
    gt = np.array([[10, 10, 10, 10], [10, 10, 10, 10]], float)
    pred = np.array([[40, 40, 10, 10], [10, 10, 10, 10]], float)  # frame 0 misses
    for convention, auc in (("got10k", 10 / 21), ("pysot", 10 / 21)):
        assert M.sequence_metrics(pred, gt, convention=convention)["success_auc"] == (
            pytest.approx(auc)
        )
    for convention in ("pytracking", "lasot"):
        m = M.sequence_metrics(pred, gt, convention=convention)
        assert m["success_auc"] == pytest.approx(20 / 21)


def test_lasot_leaves_all_zero_sequence_curves_out_of_the_mean():
    box = np.array([[5, 5, 10, 10]] * 3, float)  # a perfect sequence: AUC 20/21
    gt0 = np.array([[0, 5, 10, 10]] * 3, float)  # x = 0: no IoU under pysot / lasot
    # lasot drops the all-zero curve: 20/21; pysot averages it in: (20/21 + 0) / 2.
    for convention, auc in (("lasot", 20 / 21), ("pysot", 10 / 21)):
        seqs = [
            M.sequence_metrics(box, box, convention=convention),
            M.sequence_metrics(gt0, gt0, convention=convention),
        ]
        assert M.aggregate(seqs, convention)["success_auc"] == pytest.approx(auc), convention


def test_lasot_repairs_invalid_predictions_with_the_previous_one():
    gt = np.array([[10, 10, 10, 10]] * 3, float)
    pred = np.array([[10, 10, 10, 10], [10, 10, 10, 10], [np.nan, 0, -1, 5]], float)
    assert M.sequence_metrics(pred, gt, convention="lasot")["success_auc"] == pytest.approx(20 / 21)
    # got10k keeps the invalid box: IoU 0 on the last frame -> (20 + 20 + 0) / 63
    assert M.sequence_metrics(pred, gt)["success_auc"] == pytest.approx(40 / 63)


def test_unknown_convention_is_a_config_error():
    with pytest.raises(ConfigError, match="eval.convention='otb'"):
        M.sequence_metrics(PRED, GT, convention="otb")
    with pytest.raises(ConfigError, match="eval.convention"):
        M.aggregate([], "otb")


def test_evaluator_scores_result_files_with_the_chosen_convention(tmp_path):
    from types import SimpleNamespace

    from dsiam_jax.evaluation import evaluate_tracker_results
    from dsiam_jax.evaluation.results_io import write_sequence

    seq = SimpleNamespace(name="s", boxes=GT, visible=VISIBLE, dataset="", image_size=None)
    write_sequence(tmp_path, "s", PRED)
    for (convention, dataset), (auc, p20, _) in EXPECTED.items():
        if dataset:
            continue
        overall = evaluate_tracker_results(tmp_path, [seq], convention=convention)["overall"]
        assert overall["success_auc"] == pytest.approx(auc), convention
        assert overall["precision_20"] == pytest.approx(p20), convention
