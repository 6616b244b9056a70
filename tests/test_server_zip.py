"""Test-server zips: the GOT-10k layout byte for byte as the got10k toolkit records it,
the TrackingNet layout, and `config.eval.package` (and `config.tracker_from`) on the
evaluate job."""

import io
import json
import zipfile

import numpy as np
import pytest
from got10k.experiments.got10k import ExperimentGOT10k

from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation import results_io
from dsiam_jax.evaluation.server_zip import write_server_zip

BOXES = {
    "GOT-10k_Test_000001": np.asarray(
        [[10, 20, 30, 40], [11.5, 20.25, 29.125, 41], [12, 21, 30, 40]]
    ),
    "GOT-10k_Test_000002": np.asarray([[1, 2, 3, 4], [1.0004, 2.9996, 3, 4]]),
}
TIMES = {"GOT-10k_Test_000001": [0.5, 0.01, 0.02], "GOT-10k_Test_000002": [0.25, 0.0125]}


@pytest.fixture
def result_dir(tmp_path):
    folder = tmp_path / "results" / "student"
    for name, boxes in BOXES.items():
        results_io.write_sequence(folder, name, boxes, np.asarray(TIMES[name]))
    return folder


def test_got10k_zip_is_what_the_got10k_toolkit_records(result_dir, tmp_path):
    path = write_server_zip("got10k", result_dir, list(BOXES), tmp_path / "student.zip")
    # The toolkit's own writer (ExperimentGOT10k._record, which does not use `self`)
    # records the same run: <seq>/<seq>_001.txt and <seq>/<seq>_time.txt.
    reference = tmp_path / "toolkit"
    for name, boxes in BOXES.items():
        record = reference / name / f"{name}_001.txt"
        ExperimentGOT10k._record(None, str(record), boxes, np.asarray(TIMES[name]))
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        expected = sorted(
            f"{seq}/{seq}{suffix}" for seq in BOXES for suffix in ("_001.txt", "_time.txt")
        )
        assert names == expected  # sequence folders at the zip root, nothing else
        for entry in names:
            assert z.read(entry).decode() == (reference / entry).read_text(), entry
        first = z.read("GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt").decode()
    assert first.splitlines() == [
        "10.000,20.000,30.000,40.000",
        "11.500,20.250,29.125,41.000",
        "12.000,21.000,30.000,40.000",
    ]


def test_trackingnet_zip_has_one_comma_separated_file_per_sequence_at_the_root(
    result_dir, tmp_path
):
    names = {"GOT-10k_Test_000001": "Xy-Z_1", "GOT-10k_Test_000002": "abc_2"}
    for ours, theirs in names.items():  # TrackingNet-style names
        (result_dir / f"{ours}.txt").rename(result_dir / f"{theirs}.txt")
    path = write_server_zip("trackingnet", result_dir, list(names.values()), tmp_path / "tn.zip")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["Xy-Z_1.txt", "abc_2.txt"]
        text = z.read("Xy-Z_1.txt").decode()
    lines = text.splitlines()
    assert len(lines) == 3 and all(len(line.split(",")) == 4 for line in lines)
    assert lines[1] == "11.500,20.250,29.125,41.000"
    np.testing.assert_allclose(
        np.loadtxt(io.StringIO(text), delimiter=","), BOXES["GOT-10k_Test_000001"]
    )


def test_evaluate_job_packages_the_results(tmp_path):
    from configs import evaluate as evaluate_config
    from dsiam_jax.jobs import evaluate as evaluate_job
    from tests.test_eval import _checkpoint, write_got10k

    root = write_got10k(tmp_path / "got")
    config = evaluate_config.get_config()
    config.checkpoint = str(_checkpoint(tmp_path / "W2", names=("student",)))
    config.eval.layout, config.eval.root, config.eval.split = "got10k", str(root), "val"
    config.eval.network_repeats, config.eval.plots = 0, False
    config.eval.package = "got10k"
    # A mode=tune result whose window influence is 1: the peak is always the window's
    # centre, so the box stays (within a pixel per frame) where it started.
    best = tmp_path / "best_tracker.json"
    best.write_text(json.dumps({"tracker": {"siamfc": {"window_influence": 1.0}}}))
    config.tracker_from = str(best)
    work = tmp_path / "W3"
    evaluate_job.run(config, str(work))
    with zipfile.ZipFile(work / "student_got10k.zip") as z:
        names = sorted(z.namelist())
        box_lines = z.read("GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt").decode().splitlines()
    assert names == sorted(
        f"{s}/{s}{suffix}"
        for s in ("GOT-10k_Val_000001", "GOT-10k_Val_000002")
        for suffix in ("_001.txt", "_time.txt")
    )
    ours = results_io.read_boxes(work / "results" / "student" / "GOT-10k_Val_000001.txt")
    assert len(box_lines) == len(ours) == 8
    centres = ours[:, :2] + ours[:, 2:] / 2
    assert np.abs(centres - centres[0]).max() < 2.0  # the target itself moves 14 px
    config.eval.package = "otb"
    with pytest.raises(ConfigError, match=r"config.eval.package='otb'"):
        evaluate_job.run(config, str(work))
