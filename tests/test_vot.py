"""The VOT reset protocol (`dsiam_jax.evaluation.vot`), region overlaps, the VOT layout
reader and `mode=evaluate` with `eval.protocol=vot`; expected values worked out by hand."""

import json
import pathlib

import numpy as np
import pytest
from PIL import Image

from data_pipelines.layouts.vot import axis_aligned_box
from data_pipelines.sequences import DatasetError, read_sequences
from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation import regions as R
from dsiam_jax.evaluation import vot as V

# A diamond (a square rotated by 45 degrees) of diagonal 20 centred at (10, 10): area 200.
DIAMOND = np.array([10, 0, 20, 10, 10, 20, 0, 10], float)


def test_polygon_overlap_by_hand():
    # Box [0,10]x[0,10] holds the diamond's triangle (10,0),(0,10),(10,10): area 50.
    # IoU = 50 / (100 + 200 - 50) = 0.2.
    assert R.region_overlap([0, 0, 10, 10], DIAMOND) == pytest.approx(0.2)
    # Cut to a 15x20 image, the diamond loses the triangle (15,5),(20,10),(15,15) of
    # area 25: IoU = 50 / (100 + 175 - 50) = 2/9.
    assert R.region_overlap([0, 0, 10, 10], DIAMOND, bounds=(15, 20)) == pytest.approx(2 / 9)
    # 4-number regions are rectangles; disjoint boxes overlap 0; an empty region is unknown.
    assert R.region_overlap([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert R.region_overlap([30, 30, 5, 5], DIAMOND) == 0.0
    assert np.isnan(R.region_overlap([0, 0, 10, 10], np.zeros(8)))
    assert R.polygon_area(DIAMOND.reshape(4, 2)) == pytest.approx(200)


def test_axis_aligned_box_is_pysots_same_centre_same_area_box():
    # Centre (10, 10); bounding box 20x20 (A2 = 400); sides sqrt(200) each (A1 = 200);
    # s = sqrt(1/2): w = h = 20 s + 1 = 10 sqrt(2) + 1, x = y = 10 - (w - 1) / 2.
    w = 10 * np.sqrt(2) + 1
    np.testing.assert_allclose(axis_aligned_box(DIAMOND), [10 - (w - 1) / 2] * 2 + [w, w])
    np.testing.assert_allclose(axis_aligned_box([3, 4, 5, 6]), [3, 4, 5, 6])


class ScriptedTracker:
    """Answers a fixed box per frame (frame index carried in the frame's first pixel)."""

    def __init__(self, answers):
        self.answers = answers
        self.inits: list[int] = []

    def init(self, frame, box):
        self.inits.append(int(frame[0, 0, 0]))

    def update(self, frame):
        return self.answers.get(int(frame[0, 0, 0]), GT_BOX)


GT_BOX = np.array([10.0, 10.0, 10.0, 10.0])
HALF = np.array([10.0, 10.0, 5.0, 10.0])  # inside the ground truth: IoU 0.5
MISS = np.array([40.0, 40.0, 5.0, 5.0])  # no overlap: a failure
N = 40
# Fails at frames 3 and 15; overlap 0.5 at frames 12, 13, 25, 35; else 1.
ANSWERS = {3: MISS, 15: MISS, 12: HALF, 13: HALF, 25: HALF, 35: HALF}


@pytest.fixture(scope="module")
def scripted_run():
    loaded = []

    def load(i):
        loaded.append(i)
        frame = np.zeros((50, 60, 3), np.uint8)
        frame[0, 0, 0] = i
        return frame

    tracker = ScriptedTracker(ANSWERS)
    regions = np.tile(GT_BOX, (N, 1))  # 4-number regions
    run = V.run_supervised(tracker, load, regions, regions)
    return run, tracker, loaded, regions


def test_reset_bookkeeping(scripted_run):
    run, tracker, loaded, _ = scripted_run
    t, f, s, i = V.TRACKED, V.FAILURE, V.SKIPPED, V.INIT
    expected = [i, t, t, f, s, s, s, s, i] + [t] * 6 + [f, s, s, s, s, i] + [t] * 19
    assert run.codes.tolist() == expected
    assert tracker.inits == [0, 8, 20]  # re-initialised 5 frames after each failure
    assert loaded == [k for k in range(N) if k not in (4, 5, 6, 7, 16, 17, 18, 19)]
    assert run.failures == 2
    lines = run.records()
    assert lines[:5] == [
        "1",
        "10.0000,10.0000,10.0000,10.0000",
        "10.0000,10.0000,10.0000,10.0000",
        "2",
        "0",
    ]
    codes, boxes = V.parse_records(lines)
    assert codes.tolist() == expected
    np.testing.assert_allclose(boxes[12], HALF)
    assert np.isnan(boxes[3]).all()


def test_accuracy_robustness_and_burnin(scripted_run):
    run, _, _, regions = scripted_run
    # burnin 10 masks frames 0-9, 8-17, 20-29: accuracy counts frames 30..39, one of
    # them (35) at 0.5: (9 + 0.5) / 10.
    scores = V.vot_scores({"a": run}, {"a": regions}, interval=(2, 4))
    seq = scores["sequences"]["a"]
    assert seq["accuracy"] == pytest.approx(0.95) and seq["accuracy_frames"] == 10
    assert scores["accuracy"] == pytest.approx(0.95)
    assert scores["failures"] == 2 and scores["frames"] == N
    assert scores["robustness"] == pytest.approx(100 * 2 / 40)
    # burnin 3 masks 0-2, 8-10, 20-22: frames 11-14 (1, .5, .5, 1) and 23-39 (17 frames,
    # 25 and 35 at 0.5): 19 / 21.
    short = V.vot_scores({"a": run}, {"a": regions}, interval=(2, 4), burnin=3)
    assert short["accuracy"] == pytest.approx(19 / 21)


def test_eao_by_hand(scripted_run):
    run, _, _, regions = scripted_run
    # Sub-sequences (initial frame and failure count 0):
    #   A frames 0-3:  0, 1, 1, 0           failed -> zero-padded to 40
    #   B frames 8-15: 0, 1, 1, 1, .5, .5, 1, 0   failed -> zero-padded
    #   C frames 20-39: 0, then 1 except .5 at frames 25 and 35; reaches length 20 only.
    # Phi_Ns = mean over sub-sequences reaching Ns of mean(frames 2..Ns).
    fragments = V.subsequences(run.codes, V.frame_overlaps(run, regions))
    assert [len(v) for v, _ in fragments] == [4, 8, 20]
    assert [failed for _, failed in fragments] == [True, True, False]
    curve = V.expected_overlap_curve(fragments, N)
    assert curve[0] == 1.0
    assert curve[3] == pytest.approx((2 / 3 + 1 + 1) / 3)  # Phi_4 = 8/9
    assert curve[19] == pytest.approx((2 / 19 + 5 / 19 + 18 / 19) / 3)  # Phi_20 = 25/57
    assert curve[29] == pytest.approx((2 / 29 + 5 / 29) / 2)  # Phi_30: C too short
    # EAO over [2, 4] = (Phi_2 + Phi_3 + Phi_4) / 3 = (1 + 1 + 8/9) / 3 = 26/27.
    scores = V.vot_scores({"a": run}, {"a": regions}, interval=(2, 4))
    assert scores["eao"] == pytest.approx(26 / 27)
    assert scores["eao_interval"] == [2, 4]


def test_a_tracker_that_never_fails_has_eao_1():
    regions = np.tile(GT_BOX, (12, 1))
    run = V.run_supervised(
        ScriptedTracker({}), lambda i: np.full((30, 30, 3), i, np.uint8), regions, regions
    )
    scores = V.vot_scores({"s": run}, {"s": regions}, interval=(1, 12))
    assert scores["eao"] == pytest.approx(1.0) and scores["failures"] == 0
    assert scores["accuracy"] == pytest.approx(1.0)  # frames 10, 11 after the burn-in


def test_eao_interval_of_equal_lengths_is_that_length():
    # Equal lengths: bandwidth 1 frame; the density at the mode, 1 / (1 + e^-1/2 + e^-2
    # + ...) ~ 0.57, already holds half the mass.
    assert V.eao_interval([100, 100, 100]) == (100, 100, 100)
    low, high, peak = V.eao_interval([50, 100, 100, 100, 150])
    assert low <= 100 <= high and peak == 100


def write_vot(root: pathlib.Path, sequences: dict) -> pathlib.Path:
    """ROOT/list.txt and ROOT/<seq>/{color/00000001.jpg.., groundtruth.txt}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "list.txt").write_text("\n".join(sequences) + "\n")
    for name, (frames, lines) in sequences.items():
        d = root / name / "color"
        d.mkdir(parents=True)
        for k, f in enumerate(frames):
            Image.fromarray(f).save(d / f"{k + 1:08d}.jpg", quality=95)
        (root / name / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return root


def test_vot_reader_polygons_and_boxes(tmp_path):
    frames = [np.full((40, 50, 3), 100, np.uint8)] * 3
    poly = ",".join(str(v) for v in DIAMOND)
    root = write_vot(
        tmp_path / "vot",
        {
            "rot": (frames, [poly, poly, "nan,nan,nan,nan,nan,nan,nan,nan"]),
            "box": (frames, ["1,2,3,4"] * 3),
        },
    )
    seqs = read_sequences("vot", str(root))
    assert [s.name for s in seqs] == ["rot", "box"]
    rot, box = seqs
    np.testing.assert_allclose(rot.meta["regions"][0], DIAMOND)
    np.testing.assert_allclose(rot.boxes[0], axis_aligned_box(DIAMOND))
    assert rot.visible.tolist() == [True, True, False] and np.isnan(rot.boxes[2]).all()
    np.testing.assert_allclose(box.meta["regions"][0], [1, 2, 4, 2, 4, 6, 1, 6])
    np.testing.assert_allclose(box.boxes, [[1, 2, 3, 4]] * 3)
    (root / "box" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4,5,6\n1,2,3,4\n")
    with pytest.raises(DatasetError, match=r"groundtruth.txt:2: expected 4 numbers"):
        read_sequences("vot", str(root))


def jump_clip(n=14, jump=6, hw=(120, 160), size=24, seed=0):
    """A textured target at (10, 10) that jumps to (120, 80) at frame `jump`."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (size, size, 3)).astype(np.uint8)
    frames, boxes = [], []
    for k in range(n):
        x, y = (10, 10) if k < jump else (120, 80)
        f = np.clip(90 + rng.normal(0, 3, (*hw, 3)), 0, 255).astype(np.uint8)
        f[y : y + size, x : x + size] = texture
        frames.append(f)
        boxes.append([x, y, size, size])
    return frames, boxes


def test_evaluate_job_with_the_vot_protocol(tmp_path):
    from configs import evaluate as evaluate_config
    from dsiam_jax.jobs import evaluate as evaluate_job
    from tests.test_eval import _checkpoint

    frames, boxes = jump_clip()
    lines = [",".join(str(float(v)) for v in R.rect_to_polygon(b)) for b in boxes]  # 8 numbers
    root = write_vot(tmp_path / "vot", {"jump": (frames, lines)})
    config = evaluate_config.get_config()
    config.checkpoint = str(_checkpoint(tmp_path / "W2", names=("student",)))
    config.eval.layout = "vot"
    config.eval.root = str(root)
    config.eval.protocol = "vot"
    config.eval.eao_interval = "2,10"
    work = tmp_path / "W3"
    report = evaluate_job.run(config, str(work))
    saved = json.loads((work / "eval.json").read_text())
    entry = saved["trackers"]["student"]
    for key in ("eao", "accuracy", "robustness", "failures"):
        assert key in entry and key in report["trackers"]["student"]
    records = (
        (work / "results" / "student" / "baseline" / "jump" / "jump_001.txt").read_text().split()
    )
    assert len(records) == len(frames) and records[0] == "1"
    # The target jumps out of reach at frame 7 (index 6): that frame is a failure, or
    # skipped / re-initialised after an earlier one, never a tracked box.
    assert records[6] in ("0", "1", "2")
    assert entry["failures"] == records.count("2") >= (1 if records[6] == "2" else 0)
    assert entry["robustness"] == pytest.approx(100 * entry["failures"] / len(frames))
    assert entry["eao_interval"] == [2, 10] and 0 <= entry["eao"] <= 1
    assert entry["fps"] > 0 and entry["sequences"]["jump"]["frames"] == len(frames)
    assert "| student |" in (work / "eval_summary.md").read_text()


def test_bad_protocol_and_interval_are_config_errors(tmp_path):
    from configs import evaluate as evaluate_config
    from dsiam_jax.jobs import evaluate as evaluate_job

    config = evaluate_config.get_config()
    config.eval.protocol = "reset"
    with pytest.raises(ConfigError, match="config.eval.protocol='reset'"):
        evaluate_job.run(config, str(tmp_path))
    config.eval.protocol = "vot"
    config.eval.eao_interval = "356,100"
    with pytest.raises(ConfigError, match="config.eval.eao_interval='356,100'"):
        evaluate_job.run(config, str(tmp_path))
    config.eval.eao_interval = ""
    config.eval.batched = True
    with pytest.raises(ConfigError, match="config.eval.batched=True with config.eval.protocol=vot"):
        evaluate_job.run(config, str(tmp_path))
    config.eval.batched = False
    config.eval.convention = "otb"
    with pytest.raises(ConfigError, match="config.eval.convention='otb'"):
        evaluate_job.run(config, str(tmp_path))
