"""Metrics: hand-computed values on tiny result sets, and the got10k toolkit's ExperimentOTB."""

import json

import numpy as np
import pytest

from dsiam_jax.evaluation import metrics as M

GT = np.array([[0, 0, 10, 10]] * 3, float)
PRED = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [100, 100, 10, 10]], float)


def test_rect_iou_by_hand():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 5]], float)
    b = np.array([[5, 0, 10, 10], [0, 0, 10, 10], [20, 20, 5, 5], [0, 0, 0, 5]], float)
    np.testing.assert_allclose(M.rect_iou(a, b), [50 / 150, 1, 0, 0], atol=1e-12)


def test_rect_iou_bound_clips_like_the_got10k_toolkit():
    # The toolkit clips x to [0, W] and then w to [0, W - x]: (-5, 0, 10, 10) -> (0, 0, 10, 10).
    pred, gt = np.array([[-5.0, 0, 10, 10]]), np.array([[0.0, 0, 10, 10]])
    assert M.rect_iou(pred, gt)[0] == pytest.approx(5 / 15)
    assert M.rect_iou(pred, gt, bound=(100, 100))[0] == pytest.approx(1.0)
    # A box past the right edge is cut at W: (95, 0, 10, 10) -> (95, 0, 5, 10).
    pred = np.array([[95.0, 0, 10, 10]])
    gt = np.array([[90.0, 0, 10, 10]])
    assert M.rect_iou(pred, gt, bound=(100, 100))[0] == pytest.approx(50 / 100)  # 5x10 of 10x10


def test_sequence_metrics_by_hand():
    m = M.sequence_metrics(PRED, GT)
    # IoUs 1, 1/3, 0: above thresholds 0, .05, ..., 1 in 20, 7 and 0 of the 21 cases.
    assert m["success_auc"] == pytest.approx(27 / 63)
    assert m["success_curve"][0] == pytest.approx(2 / 3)  # IoU > 0 strictly
    assert m["success_curve"][-1] == 0.0  # IoU > 1 never
    # Centre errors 0, 5, 141.4 px.
    assert m["precision_20"] == pytest.approx(2 / 3)
    assert m["precision_curve"][4] == pytest.approx(1 / 3)  # 5 px is not <= 4 px
    assert m["precision_curve"][5] == pytest.approx(2 / 3)
    # Normalised errors 0, 0.5, 14.1: only frame 1 within 0.2.
    assert m["norm_precision"] == pytest.approx(1 / 3)
    # GOT-10k: frame 1 excluded -> IoUs 1/3 and 0.
    assert m["ao"] == pytest.approx(1 / 6)
    assert m["sr50"] == 0.0 and m["sr75"] == 0.0


def test_absent_and_unannotated_frames_are_excluded():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4])
    pred = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [100, 100, 10, 10], [0, 0, 10, 10]])
    m = M.sequence_metrics(pred, gt, visible=np.array([1, 1, 0, 1], bool))
    assert m["ao"] == pytest.approx(1 / 3)  # frame 3 absent, frame 4 unannotated
    assert m["sr50"] == 0.0
    assert m["success_auc"] == pytest.approx(27 / 63)  # OTB-style: absent frame 3 counts
    # A zero-size ground-truth box is not an annotation either.
    gt[3] = [0, 0, 0, 10]
    assert M.sequence_metrics(pred, gt)["success_auc"] == pytest.approx(27 / 63)


def test_aggregate_averages_curves_and_pools_got_ious():
    a = M.sequence_metrics(PRED, GT)  # GOT IoUs 1/3, 0
    b = M.sequence_metrics(np.array([[0, 0, 10, 10]] * 5, float), np.array([[0, 0, 10, 10]] * 5))
    agg = M.aggregate([a, b])
    assert agg["success_auc"] == pytest.approx((27 / 63 + 20 / 21) / 2)
    assert agg["precision_20"] == pytest.approx((2 / 3 + 1) / 2)
    assert agg["ao"] == pytest.approx((1 / 3 + 0 + 4) / 6)  # frame-weighted, as the toolkit
    assert agg["sr50"] == pytest.approx(4 / 6)


def test_sequence_without_annotation_gives_nan_not_crash():
    gt = np.array([[0, 0, 10, 10]] + [[np.nan] * 4] * 3)
    m = M.sequence_metrics(np.zeros((4, 4)) + 1, gt)
    assert np.isnan(m["ao"])
    agg = M.aggregate([m, M.sequence_metrics(PRED, GT)])
    assert agg["ao"] == pytest.approx(1 / 6)


def _random_results(rng, n_seq=4):
    seqs = []
    for s in range(n_seq):
        n = 20 + 7 * s
        centre = 100 + np.cumsum(rng.normal(0, 3, (n, 2)), axis=0)
        size = np.abs(30 + rng.normal(0, 4, (n, 2)))
        gt = np.column_stack([centre - size / 2, size])
        pred = gt + rng.normal(0, 6, gt.shape)
        pred[:, 2:] = np.abs(pred[:, 2:]) + 1
        pred[0] = gt[0]
        pred[rng.random(n) < 0.15] += 60  # some failures
        seqs.append((f"seq{s}", np.round(pred, 3), np.round(gt, 3)))
    return seqs


def test_equals_got10k_experiment_otb(tmp_path):
    pytest.importorskip("six")
    experiments = pytest.importorskip("got10k.experiments")
    seqs = _random_results(np.random.default_rng(0))

    class Dataset:  # the minimal dataset interface ExperimentOTB.report reads
        seq_names = [s[0] for s in seqs]

        def __len__(self):
            return len(seqs)

        def __getitem__(self, i):
            return [], seqs[i][2]

    exp = experiments.ExperimentOTB.__new__(experiments.ExperimentOTB)
    exp.dataset = Dataset()
    exp.result_dir = str(tmp_path / "results")
    exp.report_dir = str(tmp_path / "reports")
    exp.nbins_iou, exp.nbins_ce = 21, 51
    (tmp_path / "results" / "ours").mkdir(parents=True)
    for name, pred, _ in seqs:
        np.savetxt(tmp_path / "results" / "ours" / f"{name}.txt", pred, fmt="%.3f", delimiter=",")
    exp.plot_curves = lambda names: None  # plotting is not what is compared
    perf = exp.report(["ours"])["ours"]
    ours = [M.sequence_metrics(pred, gt) for _, pred, gt in seqs]
    agg = M.aggregate(ours)
    overall = perf["overall"]
    np.testing.assert_allclose(agg["success_curve"], overall["success_curve"], atol=1e-12)
    np.testing.assert_allclose(agg["precision_curve"], overall["precision_curve"], atol=1e-12)
    assert agg["success_auc"] == pytest.approx(overall["success_score"], abs=1e-12)
    assert agg["precision_20"] == pytest.approx(overall["precision_score"], abs=1e-12)
    for (name, _, _), m in zip(seqs, ours):
        seq = perf["seq_wise"][name]
        assert m["success_auc"] == pytest.approx(seq["success_score"], abs=1e-12)
        assert m["precision_20"] == pytest.approx(seq["precision_score"], abs=1e-12)
    json.dumps(agg)  # JSON-ready


def test_equals_got10k_metric_functions():
    pytest.importorskip("six")
    tk = pytest.importorskip("got10k.utils.metrics")
    rng = np.random.default_rng(1)
    a = np.abs(rng.normal(50, 30, (200, 4)))
    b = np.abs(rng.normal(50, 30, (200, 4)))
    np.testing.assert_allclose(M.rect_iou(a, b), tk.rect_iou(a.copy(), b.copy()), atol=1e-12)
    np.testing.assert_allclose(
        M.rect_iou(a, b, (90, 80)), tk.rect_iou(a.copy(), b.copy(), bound=(90, 80)), atol=1e-12
    )
    np.testing.assert_allclose(M.center_error(a, b), tk.center_error(a, b), atol=1e-12)
