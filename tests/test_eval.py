"""evaluate() on a tiny GOT-10k folder: outputs, batched == single, the got10k toolkit's
ExperimentGOT10k numbers, and the evaluate / track command lines."""

import json
import pathlib

import numpy as np
import pytest
from PIL import Image

from data_pipelines.sequences import read_sequences
from dsiam_jax.checkpoints import CheckpointStore
from dsiam_jax.evaluation import evaluate
from dsiam_jax.evaluation import metrics as metrics_lib
from dsiam_jax.evaluation.results_io import read_boxes
from dsiam_jax.models import ModelSpec, TrackerModel, numpy_variables
from tests.test_tracking import Clip

SEQS = {"GOT-10k_Val_000001": dict(n=8, seed=0), "GOT-10k_Val_000002": dict(n=6, seed=1)}


def write_got10k(root: pathlib.Path) -> pathlib.Path:
    """ROOT/val/{list.txt, <seq>/{00000001.jpg.., groundtruth.txt, *.label, meta_info.ini}}."""
    split = root / "val"
    split.mkdir(parents=True)
    (split / "list.txt").write_text("\n".join(SEQS) + "\n")
    for name, kw in SEQS.items():
        clip = Clip(**kw)
        d = split / name
        d.mkdir()
        for i, f in enumerate(clip.frames):
            Image.fromarray(f).save(d / f"{i + 1:08d}.jpg", quality=95)
        np.savetxt(d / "groundtruth.txt", clip.boxes, fmt="%.4f", delimiter=",")
        absent = np.zeros(len(clip), int)
        absent[3] = 1  # one frame with the target marked absent
        np.savetxt(d / "absence.label", absent, fmt="%d")
        np.savetxt(d / "cover.label", np.where(absent == 1, 0, 8), fmt="%d")
        np.savetxt(d / "cut_by_image.label", np.zeros(len(clip)), fmt="%d")
        h, w = clip.frames[0].shape[:2]
        (d / "meta_info.ini").write_text(f"[METAINFO]\nresolution: ({w}, {h})\n")
    return root


def tiny_models():
    teacher = ModelSpec(channels=(8, 16, 16, 16, 16))
    student = ModelSpec(channels=(8, 8, 16, 16, 8))
    return {
        "teacher": TrackerModel("teacher", teacher, numpy_variables(teacher, 1), "teacher"),
        "student": TrackerModel("student", student, numpy_variables(student, 2), "student"),
    }


@pytest.fixture(scope="module")
def got_root(tmp_path_factory):
    return write_got10k(tmp_path_factory.mktemp("got"))


@pytest.fixture(scope="module")
def single_run(got_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("eval")
    sequences = read_sequences("got10k", str(got_root), "val")
    lines = []
    report = evaluate(tiny_models(), sequences, None, work, network_repeats=2, log=lines.append)
    return work, sequences, report, lines


def test_evaluate_writes_the_output_contract(single_run):
    work, sequences, report, _ = single_run
    assert set(report["trackers"]) == {"teacher", "student"}
    for name, entry in report["trackers"].items():
        for key in ("success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75"):
            assert 0.0 <= entry[key] <= 1.0, (name, key)
        assert entry["fps"] > 0 and entry["network_fps"] > 0
        assert set(entry["sequences"]) == set(SEQS)
        for seq in sequences:
            boxes = read_boxes(work / "results" / name / f"{seq.name}.txt")
            assert boxes.shape == (len(seq), 4)
            np.testing.assert_allclose(boxes[0], seq.boxes[0], atol=1e-3)  # frame 1 = init box
            times = np.loadtxt(work / "results" / name / f"{seq.name}_time.txt")
            assert times.shape == (len(seq),) and np.all(times > 0)
    saved = json.loads((work / "eval.json").read_text())
    assert saved["trackers"]["teacher"]["ao"] == pytest.approx(report["trackers"]["teacher"]["ao"])
    assert "conventions" in saved
    for f in ("success_plot.png", "precision_plot.png", "eval_summary.md", "eval_sequences.md"):
        assert (work / f).stat().st_size > 0
    assert "GOT-10k_Val_000002" in (work / "eval_sequences.md").read_text()


def test_progress_line_after_the_last_sequence(single_run):
    _, sequences, _, lines = single_run
    n = len(sequences)
    for name in ("teacher", "student"):
        last = [line for line in lines if line.startswith(f"  {name}: {n}/{n} sequences")]
        assert len(last) == 1 and "ETA 0m00s" in last[0] and "frames/s" in last[0]


def test_batched_evaluation_gives_the_same_boxes(single_run, tmp_path):
    work, sequences, report, _ = single_run
    models = {"teacher": tiny_models()["teacher"]}
    batched = evaluate(
        models, sequences, None, tmp_path, batched=True, batch_size=2, chunk=4,
        network_repeats=0, plots=False, log=lambda s: None,
    )  # fmt: skip
    for seq in sequences:
        a = read_boxes(work / "results" / "teacher" / f"{seq.name}.txt")
        b = read_boxes(tmp_path / "results" / "teacher" / f"{seq.name}.txt")
        np.testing.assert_allclose(a, b, atol=2e-3)
    t = batched["trackers"]["teacher"]
    assert t["run"] == "batched" and t["ao"] == pytest.approx(report["trackers"]["teacher"]["ao"])


def test_equals_got10k_experiment_got10k(single_run, got_root, tmp_path):
    pytest.importorskip("six")
    experiments = pytest.importorskip("got10k.experiments")
    work, sequences, report, _ = single_run
    result_dir, report_dir = tmp_path / "tk_results", tmp_path / "tk_reports"
    for seq in sequences:  # the toolkit's layout: <tracker>/<seq>/<seq>_001.txt
        d = result_dir / "GOT-10k" / "teacher" / seq.name
        d.mkdir(parents=True)
        src = work / "results" / "teacher"
        (d / f"{seq.name}_001.txt").write_text((src / f"{seq.name}.txt").read_text())
        (d / f"{seq.name}_time.txt").write_text((src / f"{seq.name}_time.txt").read_text())
    exp = experiments.ExperimentGOT10k(
        str(got_root), subset="val", result_dir=str(result_dir), report_dir=str(report_dir)
    )
    exp.plot_curves = lambda *a: None
    perf = exp.report(["teacher"])["teacher"]
    ours = report["trackers"]["teacher"]
    assert ours["ao"] == pytest.approx(perf["overall"]["ao"], abs=1e-9)
    assert ours["sr50"] == pytest.approx(perf["overall"]["sr"], abs=1e-9)
    for name, seq in perf["seq_wise"].items():
        assert ours["sequences"][name]["ao"] == pytest.approx(seq["ao"], abs=1e-9)
    # The GOT curve (101 thresholds) from our pooled IoUs equals the toolkit's.
    ious = []
    for seq in sequences:
        pred = read_boxes(work / "results" / "teacher" / f"{seq.name}.txt")
        ious += metrics_lib.sequence_metrics(pred, seq.boxes, seq.visible, seq.image_size)[
            "got_ious"
        ]
    curve = metrics_lib.success_curve(np.asarray(ious), np.linspace(0, 1, 101))
    np.testing.assert_allclose(curve, perf["overall"]["succ_curve"], atol=1e-12)


def test_missing_first_box_is_skipped_with_a_warning(got_root, tmp_path):
    sequences = read_sequences("got10k", str(got_root), "val")[:1]
    sequences[0].boxes[0] = np.nan
    with pytest.raises(Exception, match="no sequence has an annotated first frame"):
        evaluate(tiny_models(), sequences, None, tmp_path, log=lambda s: None)


def _checkpoint(path: pathlib.Path, names=("teacher", "student")) -> pathlib.Path:
    store = CheckpointStore(path)
    store.save(1, {n: m for n, m in tiny_models().items() if n in names})
    store.close()
    return path


def test_cli_evaluate_got10k_folder(cli, got_root, tmp_path):
    ckpt = _checkpoint(tmp_path / "W2")
    out = tmp_path / "W3"
    proc = cli(
        "--config=configs/evaluate.py",
        f"--config.checkpoint={ckpt}",
        "--config.eval.layout=got10k",
        f"--config.eval.root={got_root / 'val'}",
        "--config.eval.network_repeats=1",
        f"--workdir={out}",
    )
    report = json.loads((out / "eval.json").read_text())
    assert set(report["trackers"]) == {"teacher", "student"}
    assert (out / "results" / "student" / "GOT-10k_Val_000001.txt").is_file()
    assert (out / "success_plot.png").is_file() and (out / "precision_plot.png").is_file()
    assert "| teacher |" in proc.stdout


def test_cli_track_video_and_frame_folder(cli, tmp_path):
    clip = Clip(n=7, seed=3)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(clip.frames):
        Image.fromarray(f).save(folder / f"{i + 1}.png")
    np.savetxt(folder / "groundtruth.txt", clip.boxes[:1], fmt="%.1f", delimiter=",")
    ckpt = _checkpoint(tmp_path / "W2", names=("teacher",))
    video = folder
    try:
        import av  # noqa: F401

        from dsiam_jax.tracking.video import AnnotatedWriter

        writer = AnnotatedWriter(tmp_path / "clip", "mp4", fps=10)
        for f in clip.frames:
            writer.write(Image.fromarray(f))
        video = writer.close()
    except ImportError:
        pass
    box = ",".join(str(v) for v in clip.boxes[0])
    out = tmp_path / "W4"
    cli(
        "--config=configs/track.py",
        f"--config.checkpoint={ckpt}",
        f"--config.video={video}",
        f"--config.init_box=({box})",
        f"--workdir={out}",
    )
    summary = json.loads((out / "track.json").read_text())
    assert summary["frames"] == 7
    boxes = np.loadtxt(out / "tracks" / "teacher.txt", delimiter=",")
    assert boxes.shape == (7, 4)
    table = np.loadtxt(out / "tracks" / "teacher.csv", delimiter=",", skiprows=1)
    assert table.shape == (7, 6) and np.all((table[:, 5] >= 0) & (table[:, 5] <= 1))
    assert pathlib.Path(summary["annotated"]).stat().st_size > 0
    # A folder of frames with a groundtruth file and no init box, GIF output.
    out2 = tmp_path / "W5"
    cli(
        "--config=configs/track.py",
        f"--config.checkpoint={ckpt}",
        f"--config.video={folder}",
        "--config.output.format=gif",
        "--config.max_frames=4",
        f"--workdir={out2}",
    )
    assert json.loads((out2 / "track.json").read_text())["frames"] == 4
    assert (out2 / "annotated.gif").stat().st_size > 0


def test_cli_track_unreadable_video_is_one_clear_line(cli, tmp_path):
    proc = cli(
        "--config=configs/track.py",
        "--config.checkpoint=nowhere",
        f"--config.video={tmp_path / 'missing.mp4'}",
        "--config.init_box=(1,2,3,4)",
        f"--workdir={tmp_path / 'W'}",
        check=False,
    )
    assert proc.returncode == 2
    assert "video not found" in proc.stderr and "Traceback" not in proc.stderr
