"""The SiamRPN study's recipe comparison (`studies/siamrpn/compare.py`) on hand-made reports."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT

from studies.siamrpn import box_errors, compare


def write_eval(folder, aucs):
    folder.mkdir(parents=True)
    sequences = {f"seq{i}": {"success_auc": a, "frames": 40} for i, a in enumerate(aucs)}
    report = {"trackers": {"siamrpn_teacher": {"sequences": sequences}}}
    (folder / "eval.json").write_text(json.dumps(report))
    return str(folder)


def test_paired_difference_by_hand(tmp_path):
    aucs = {
        "A": {0: [0.2, 0.4, 0.3], 1: [0.3, 0.3, 0.3]},
        "E": {0: [0.5, 0.4, 0.6], 1: [0.4, 0.5, 0.3]},
    }
    runs = {
        v: {s: write_eval(tmp_path / f"{v}{s}", a) for s, a in seeds.items()}
        for v, seeds in aucs.items()
    }
    result = compare.compare(runs, [("E", "A")])
    assert np.isclose(result["variants"]["A"]["mean_auc"], (0.3 + 0.3) / 2)
    # per sequence, the seed-averaged difference: (0.3+0.1)/2, (0+0.2)/2, (0.3+0)/2
    per_seq = np.array([0.2, 0.1, 0.15])
    (pair,) = result["pairs"]
    assert pair["num_sequences"] == 3 and pair["seeds"] == [0, 1]
    assert np.isclose(pair["diff"], per_seq.mean())
    assert np.isclose(pair["se_sequences"], per_seq.std(ddof=1) / np.sqrt(3))
    assert pair["significant"] == bool(per_seq.mean() > 2 * per_seq.std(ddof=1) / np.sqrt(3))
    table = compare.markdown(result)
    assert "| E - A | 2 | 3 | +0.150 |" in table


def test_skip_first_leaves_out_the_first_sequences_by_name(tmp_path):
    """With seq0 and seq1 left out, T - S is the mean of seq2's and seq3's differences:
    (0.1 - 0.2) / 2."""
    runs = {
        "T": {0: write_eval(tmp_path / "T", [0.9, 0.5, 0.6, 0.3])},
        "S": {0: write_eval(tmp_path / "S", [0.4, 0.5, 0.5, 0.5])},
    }
    result = compare.compare(runs, [("T", "S")], skip_first=2)
    (pair,) = result["pairs"]
    assert pair["num_sequences"] == 2 and np.isclose(pair["diff"], -0.05)
    assert np.isclose(result["variants"]["T"]["mean_auc"], 0.45)


def test_concentration_by_hand(tmp_path):
    """Differences 0.5, 0.0, 0.1, -0.2 (seq0-seq3): median 0.05; the two largest, seq0
    and seq2, carry (0.5 + 0.1) / 4 of the mean."""
    runs = {
        "T": {0: write_eval(tmp_path / "T", [0.9, 0.5, 0.6, 0.3])},
        "S": {0: write_eval(tmp_path / "S", [0.4, 0.5, 0.5, 0.5])},
    }
    (pair,) = compare.compare(runs, [("T", "S")], worst=2)["pairs"]
    c = pair["concentration"][0]
    assert np.isclose(c["median"], 0.05) and np.isclose(c["worst_share"], 0.15)
    assert c["worst"] == ["seq0", "seq2"]
    assert "| T - S | 0 | +0.050 | +0.150 | seq0, seq2 |" in compare.markdown(
        compare.compare(runs, [("T", "S")], worst=2)
    )
    assert "concentration" not in compare.compare(runs, [("T", "S")])["pairs"][0]


def test_motion_gain_by_hand():
    """A target moving 2 px a frame (size 10), followed by a box that moves 1 px a frame:
    needed steps 2, 3, 4 (the lag grows), taken 1 each -> slope 9 / 29; a box lost from
    the start (centre 100 px away) is left out; a box that follows exactly gains 1."""
    from studies.siamrpn import motion

    frames = np.arange(4.0)
    gt = np.stack([2 * frames, np.zeros(4), np.full(4, 10.0), np.full(4, 10.0)], 1)
    half = gt.copy()
    half[:, 0] = frames
    lost = gt.copy()
    lost[:, 0] += 100
    assert np.isclose(motion.motion_gain([half, lost], [gt, gt]), (2 + 3 + 4) / (4 + 9 + 16))
    assert np.isclose(motion.motion_gain([gt], [gt]), 1.0)


def test_ridge_probe_recovers_a_linear_target():
    """probe_offsets' ridge fit: a noiseless linear target is predicted on new rows."""
    from studies.siamrpn import probe_offsets

    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 2))
    x_fit, x_new = rng.normal(size=(200, 6)) * 3 + 1, rng.normal(size=(50, 6)) * 3 + 1
    fit = probe_offsets.ridge(x_fit, x_fit @ w + 0.5, alpha=1e-6)
    np.testing.assert_allclose(probe_offsets.predict(fit, x_new), x_new @ w + 0.5, atol=1e-4)


def test_probe_offsets_runs_on_a_tiny_rpn(tmp_path):
    """The probe's whole path (pairs, captured head features, positive anchors, fit)."""
    from dsiam_jax import models as M
    from dsiam_jax.models import TrackerModel
    from studies.siamrpn import probe_offsets

    spec = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), head_channels=8
    )
    model = TrackerModel("tiny", spec, M.numpy_variables(spec, seed=0))
    out = probe_offsets.probe(model, fit_pairs=6, pairs=4, seed=1, alpha=10.0)
    assert out["fit_positive_anchors"] > 0 and out["test_positive_anchors"] > 0
    assert [out[s]["features"] for s in probe_offsets.SETS] == [8 + 5, 5 * 8 + 5, 10 * 8 + 5]


def test_within_pair_centring_by_hand():
    """reg_by_anchor.within_pair: each value minus its group's mean (groups in any order)."""
    from studies.siamrpn import reg_by_anchor

    values = np.array([1.0, 3.0, 10.0, 2.0, 14.0])
    group = np.array([7, 7, 2, 7, 2])  # means: group 7 -> 2, group 2 -> 12
    np.testing.assert_allclose(
        reg_by_anchor.within_pair(values, group), [-1.0, 1.0, -2.0, 0.0, 2.0]
    )


def test_reg_by_anchor_runs_on_toy_pairs():
    """The toy-pair path: held-out toy pairs, the positives, the within-pair correlations."""
    from dsiam_jax import models as M
    from dsiam_jax.models import TrackerModel
    from studies.siamrpn import reg_by_anchor

    spec = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), head_channels=8
    )
    model = TrackerModel("tiny", spec, M.numpy_variables(spec, seed=0))
    out = reg_by_anchor.reg_by_anchor(model, pairs=6, seed=3, source="toy")
    assert out["positive_anchors"] > 0
    assert set(out["within_pair"]) == {"dx", "dy"}


def test_hybrid_oracle_outputs_by_hand():
    """hybrid.oracle_outputs: which anchors and channels take the truth (one cell, k=2)."""
    import jax.numpy as jnp

    from studies.siamrpn import hybrid

    anchors = jnp.asarray([[[[50.0, 50.0, 20.0, 20.0], [50.0, 50.0, 40.0, 10.0]]]])  # [1, 1, 2, 4]
    truth = jnp.asarray([52.0, 49.0, 20.0, 22.0])  # IoU 0.75 with anchor 0, 0.31 with anchor 1
    outputs = {
        "cls": jnp.full((1, 1, 1, 4), 7.0),
        "reg": jnp.full((1, 1, 1, 8), 9.0),
        "response": jnp.full((1, 1, 1), -3.0),
    }
    exact0 = [2.0 / 20, -1.0 / 20, 0.0, np.log(22 / 20)]  # encode(truth, anchor 0)
    reg = np.asarray(hybrid.oracle_outputs(outputs, anchors, truth, "reg")["reg"])[0, 0, 0]
    np.testing.assert_allclose(reg[[0, 2, 4, 6]], exact0, rtol=1e-5, atol=1e-7)  # coord * k + 0
    np.testing.assert_allclose(reg[[1, 3, 5, 7]], 9.0)  # anchor 1 is not a positive: trained
    off = np.asarray(hybrid.oracle_outputs(outputs, anchors, truth, "offsets")["reg"])[0, 0, 0]
    np.testing.assert_allclose(off, [exact0[0], 9, exact0[1], 9, 9, 9, 9, 9], rtol=1e-5)
    cls = np.asarray(hybrid.oracle_outputs(outputs, anchors, truth, "cls")["cls"])[0, 0, 0]
    iou0 = (20 * 20 - 2 * 20 - 0) / (20 * 20 + 20 * 22 - (20 - 2) * 20)  # overlap 18 x 20
    assert np.isclose(cls[2], 12 * iou0 - 4, rtol=1e-5) and cls[0] == cls[1] == 0
    fc = np.asarray(hybrid.oracle_outputs(outputs, anchors, truth, "siamfc")["cls"])[0, 0, 0]
    np.testing.assert_allclose(fc, [0, 0, -3, -3])
    trained = hybrid.oracle_outputs(outputs, anchors, truth, "trained")
    np.testing.assert_allclose(trained["cls"], 7.0)
    np.testing.assert_allclose(trained["reg"], 9.0)


def test_hybrid_runs_on_a_tiny_rpn():
    """The whole path: tracker state -> truth in crop pixels -> replaced maps -> boxes;
    the trained variant reproduces the library tracker's boxes."""
    from data_pipelines.sequences import read_sequences
    from dsiam_jax import models as M
    from dsiam_jax.models import TrackerModel
    from dsiam_jax.tracking import build_tracker, run_sequence
    from studies.siamrpn import diagnose, hybrid

    spec = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), head_channels=8
    )
    model = TrackerModel("tiny", spec, M.numpy_variables(spec, seed=0))
    fc_spec = M.ModelSpec(channels=(8, 16, 16, 16, 16))
    fc = TrackerModel("fc", fc_spec, M.numpy_variables(fc_spec, seed=1))
    seqs = read_sequences("synthetic", "", "test", num_sequences=1, sequence_length=8)
    out = hybrid.evaluate(model, seqs, ("trained", "both", "siamfc"), {}, fc)
    assert set(out) == {"trained", "both", "siamfc"}
    assert out["both"]["success_auc"] > out["trained"]["success_auc"]
    library = run_sequence(build_tracker(model, diagnose.tracker_config({})), seqs[0]).boxes
    want = hybrid.frame_stats([library], [np.asarray(seqs[0].boxes, np.float64)])
    assert out["trained"] == want


def test_hybrid_settings_take_their_fields_types():
    from studies.siamrpn import hybrid

    got = hybrid.parse_settings(["lr=0", "search_size=287", "score_map=normalized"])
    assert got == {"lr": 0.0, "search_size": 287, "score_map": "normalized"}
    assert [type(v) for v in got.values()] == [float, int, str]
    with pytest.raises(AttributeError):
        hybrid.parse_settings(["windows=0.3"])


@pytest.mark.parametrize("plot", ["budget_plot", "window_plot"])
def test_plots_draw_the_committed_results(tmp_path, plot):
    out = tmp_path / f"{plot}.png"
    subprocess.run(
        [sys.executable, "-m", f"studies.siamrpn.{plot}", f"--out={out}"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_one_tracker_of_a_several_model_eval_by_name(tmp_path):
    sequences = {
        "student_0": {"s0": {"success_auc": 0.2}, "s1": {"success_auc": 0.4}},
        "student_1": {"s0": {"success_auc": 0.5}, "s1": {"success_auc": 0.7}},
    }
    report = {"trackers": {k: {"sequences": v} for k, v in sequences.items()}}
    (tmp_path / "eval.json").write_text(json.dumps(report))
    loaded = compare.load_eval(f"{tmp_path}#student_1")
    assert loaded["sequences"] == {"s0": 0.5, "s1": 0.7}
    assert np.isclose(loaded["auc"], 0.6)
    with pytest.raises(ValueError):  # two trackers and no name: ambiguous
        compare.load_eval(tmp_path)


def test_box_errors_by_hand():
    """Frame 1 held (centre exact, a 20x5 box on a 10x10 truth: IoU 50 / 150, area right,
    aspect 4x), frame 2 lost (90 sqrt 2 px off a size-10 target); frame 0 not counted."""
    truth = [np.array([[0, 0, 10, 10], [0, 0, 10, 10], [10, 10, 20, 5]], float)]
    pred = [np.array([[0, 0, 10, 10], [-5, 2.5, 20, 5], [100, 100, 20, 5]], float)]
    got = box_errors.box_errors(pred, truth)
    want = {
        "mean_iou": 1 / 6,
        "lost": 0.5,
        "held": 0.5,
        "held_iou": 1 / 3,
        "held_centre_error": 0.0,
        "held_abs_log_area": 0.0,
        "held_abs_log_aspect": np.log(4),
        "aspect_change": np.log(4),  # both predictions 4x the first frame's aspect ratio
    }
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key


def test_size_probe_penalty_and_read_out_by_hand():
    """size_probe: cross-validation picks the smallest penalty for a noiseless linear
    target (predicted on new rows), a large one (>= 10, weights near zero) for pure
    noise; `read_out`'s slope and R^2 of a half-size prediction: 0.5 and 0.75."""
    from studies.siamrpn import size_probe

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = x @ rng.normal(size=5) + 0.3
    assert size_probe.cross_validated_penalty(x, y) == min(size_probe.PENALTIES)
    new = rng.normal(size=(20, 5))
    predict = size_probe.ridge(x, y, min(size_probe.PENALTIES))
    want = size_probe.ridge(x, y, 0.0)(new)
    np.testing.assert_allclose(predict(new), want, atol=0.02)
    noise = rng.normal(size=200)
    assert size_probe.cross_validated_penalty(x, noise) >= 10.0  # weights near zero
    true = rng.normal(size=100)
    true -= true.mean()
    out = size_probe.read_out(true, 0.5 * true)
    assert out == {"slope": 0.5, "r2": 0.75}


def test_size_probe_features_of_both_towers_on_a_tiny_rpn():
    """`--branches=reg,cls` puts the classifier tower's features after the regression
    tower's, at the same best-anchor cells, each as its own branch reads them."""
    from dsiam_jax import models as M
    from dsiam_jax.models import TrackerModel
    from studies.siamrpn import size_probe
    from studies.siamrpn.diagnose import held_out_pairs

    spec = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), head_channels=8
    )
    model = TrackerModel("tiny", spec, M.numpy_variables(spec, seed=0))
    batch = held_out_pairs(4, 255, 1, "val")
    one = {b: size_probe.best_anchor_features(model, batch, 255, (b,)) for b in ("reg", "cls")}
    both = size_probe.best_anchor_features(model, batch, 255, ("reg", "cls"))
    assert both["features"].shape == (4, 16)
    np.testing.assert_allclose(both["features"][:, :8], one["reg"]["features"], atol=1e-6)
    np.testing.assert_allclose(both["features"][:, 8:], one["cls"]["features"], atol=1e-6)
    assert (both["features"] >= 0).all() and both["features"].any()  # after the ReLU
    np.testing.assert_array_equal(both["anchor"], one["cls"]["anchor"])


def test_size_drift_by_hand():
    """Two sequences of 10 frames: boxes whose area doubles by frame 5 and quadruples by
    frame 10 in one, and stays in the other; truth grows as e^0.1 and e^0.3 by frame 10."""
    from studies.siamrpn import size_drift

    def boxes(area_at: dict) -> np.ndarray:
        out = np.tile([0.0, 0.0, 10.0, 10.0], (10, 1))
        for f, factor in area_at.items():
            out[f - 1, 2] *= factor  # width alone carries the area change
        return out

    pred = [boxes({5: 2.0, 10: 4.0}), boxes({})]
    truth = [boxes({10: np.exp(0.1)}), boxes({10: np.exp(0.3)})]
    got = size_drift.drift(pred, truth, frames=(5, 10))
    assert got["drift"] == [round(np.log(2) / 2, 4), round(np.log(4) / 2, 4)]
    assert got["follow_corr"] == -1.0  # the larger growth where the truth grew less
    assert got["follow_slope"] == round(-np.log(4) / 0.2, 4)


def test_tracking_bias_summary_and_settling_by_hand():
    """Held frames whose proposal error is 0.05 + 0.8 x the state's: slope 0.8,
    intercept 0.05, the loop settles at 0.05 / 0.2 = 0.25; a frame not held is left out
    of all but `push_lost` and `size_step`.
    Mean proposal errors -0.1, 0.05, 0.15 at offsets -0.2, 0, 0.2 cross the offset
    halfway between 0 and 0.2."""
    from studies.siamrpn import tracking_bias as tb

    state = np.array([-0.2, 0.0, 0.1, 0.3, 5.0])
    e = {"state": state, "proposal": 0.05 + 0.8 * state, "best_anchor": state / 2}
    e["proposal"][-1] = -9.0
    e["held"] = np.array([True, True, True, True, False])
    e["lr"], e["frame"] = np.full(5, 0.5), np.arange(2, 7)
    got = tb.summarise(e, fit=True)
    assert got["frames"] == 5 and got["held"] == 0.8
    # proposal - state: 0.09, 0.05, 0.03, -0.01 held; -14 on the frame not held
    assert (got["push_held"], got["push_lost"]) == (0.04, -14.0)
    assert got["size_step"] == round(0.5 * (0.16 - 14.0) / 5, 4)
    assert got["state_at"] == {5: 0.3}  # frame 5: the fourth record
    assert got["state"] == 0.05 and got["proposal"] == 0.09 and got["best_anchor"] == 0.025
    assert (got["slope"], got["intercept"], got["fixed_point"]) == (0.8, 0.05, 0.25)
    assert tb.settles_at([-0.2, 0.0, 0.2], [-0.1, 0.05, 0.15]) == 0.1
    assert tb.settles_at([-0.2, 0.0, 0.2], [-0.1, 0.05, 0.25]) is None


def test_tracking_bias_errors_by_hand():
    """Log-size errors against the truth, and `held` from the proposal's centre error."""
    from studies.siamrpn import tracking_bias as tb

    truth = np.array([[0.0, 0.0, 10.0, 40.0], [10.0, 10.0, 20.0, 20.0]])  # sizes 20, 20
    records = {
        "truth": truth,
        "state": np.array([[20.0, 20.0], [40.0, 40.0]]),
        "proposal": np.array([[10.0, 40.0], [10.0, 10.0]]),
        "best_anchor": np.array([[20.0, 80.0], [20.0, 20.0]]),
        "centre": np.array([[5.0 + 4.0, 20.0], [20.0 + 6.0, 20.0]]),  # 0.2 / 0.3 sizes off
        "lr": np.array([0.1, 0.2]),
        "frame": np.array([2, 3]),
    }
    e = tb.errors(records)
    np.testing.assert_allclose(e["state"], [0.0, np.log(2)])
    np.testing.assert_allclose(e["proposal"], [0.0, -np.log(2)])
    np.testing.assert_allclose(e["best_anchor"], [np.log(2), 0.0])
    np.testing.assert_array_equal(e["held"], [True, False])


def test_tracking_bias_probe_follows_the_tracker_on_a_tiny_rpn():
    """The probe's own loop is the tracker's: each frame's crop is cut around the state
    the tracker reached, the proposal moves the centre as the tracker does, and the
    teacher-forced crops are cut around the previous true box scaled by e^offset."""
    import dataclasses

    from configs import default
    from data_pipelines import sequences, sources
    from dsiam_jax import models as M
    from dsiam_jax.models import TrackerModel
    from dsiam_jax.tracking import build_tracker
    from studies.siamrpn import tracking_bias as tb

    spec = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), head_channels=8
    )
    model = TrackerModel("tiny", spec, M.numpy_variables(spec, seed=0))
    kwargs = sources.synthetic_kwargs(default.data_config()) | {"num_sequences": 1}
    (seq,) = sequences.read_sequences("synthetic", "", "val", **kwargs)
    seq = dataclasses.replace(seq, boxes=seq.boxes[:5], visible=seq.visible[:5])
    tracker = build_tracker(model)
    step = tb.probe_fn(tracker)
    own = tb.run_sequence(tracker, step, seq, None)
    state = tracker.init(seq.load_frame(0), seq.boxes[0])
    for t in range(1, 5):
        np.testing.assert_allclose(own["state"][t - 1], state.size, rtol=1e-5)
        state, _, _ = tracker.track(state, seq.load_frame(t))
        np.testing.assert_allclose(own["centre"][t - 1], state.center, rtol=1e-4, atol=1e-3)
    forced = tb.run_sequence(tracker, step, seq, 0.2)
    np.testing.assert_allclose(forced["state"], seq.boxes[:4, 2:] * np.exp(0.2), rtol=1e-5)
    np.testing.assert_array_equal(forced["truth"], seq.boxes[1:].astype(np.float32))
