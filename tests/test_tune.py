"""mode=tune: settings as traced values (same boxes, one compilation), a tiny search that
improves a deliberately bad setting, its resume after a kill, and the refused test split."""

import json
import pathlib

import numpy as np
import optuna
import pytest
from PIL import Image

from configs import tune as tune_config
from dsiam_jax.checkpoints import load_models
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import tune as tune_job
from dsiam_jax.tracking.runner import run_sequence
from dsiam_jax.tracking.tracker import build_tracker
from dsiam_jax.tracking.tunable import TunableTracker, tuned_tracker_config
from tests.test_eval import _checkpoint, tiny_models
from tests.test_tracking import Clip


def write_split(root: pathlib.Path, split: str, clips: dict) -> None:
    """ROOT/<split>/{list.txt, <seq>/{00000001.jpg.., groundtruth.txt}} (GOT-10k layout)."""
    folder = root / split
    folder.mkdir(parents=True)
    (folder / "list.txt").write_text("\n".join(clips) + "\n")
    for name, clip in clips.items():
        d = folder / name
        d.mkdir()
        for i, f in enumerate(clip.frames):
            Image.fromarray(f).save(d / f"{i + 1:08d}.jpg", quality=95)
        np.savetxt(d / "groundtruth.txt", clip.boxes, fmt="%.4f", delimiter=",")


class _Seq:
    def __init__(self, clip):
        self.clip, self.boxes = clip, clip.boxes

    def __len__(self):
        return len(self.clip)

    def load_frame(self, i):
        return self.clip.frames[i]


@pytest.mark.parametrize(
    "kind, settings",
    [
        ("siamfc", {"window_influence": 0.05, "scale_penalty": 0.9, "scale_lr": 0.8}),
        ("siamrpn", {"penalty_k": 0.3, "window_influence": 0.95, "lr": 0.1}),
    ],
)
def test_tunable_tracker_equals_a_tracker_built_with_the_setting(kind, settings):
    """Reference: the plain tracker with the setting compiled in as constants. The
    tunable one tracks with the default, then with `settings`, without recompiling."""
    if kind == "siamfc":
        model = tiny_models()["student"]
    else:  # random RPN heads send every box to a corner, whatever the setting
        model = load_models("siamrpn_student_0")["siamrpn_student_0"]
    seq = _Seq(Clip(n=6, v=(3.0, 2.0)))
    tracker = TunableTracker(build_tracker(model))
    default = run_sequence(tracker, seq).boxes
    tracker.set_settings(settings)
    tuned = run_sequence(tracker, seq).boxes
    reference = run_sequence(build_tracker(model, {kind: settings}), seq).boxes
    np.testing.assert_allclose(tuned, reference, atol=1e-3)
    assert tracker.settings() == pytest.approx(settings)
    assert not np.allclose(default, tuned)  # the settings did change the boxes
    assert tracker.track_jit._cache_size() == 1  # one compilation for both settings
    if kind == "siamfc":  # the VOT objective (EAO) reuses the same compiled step
        config = tune_config.get_config()
        config.eval.protocol, config.eval.eao_interval = "vot", "2,6"
        seq.name = "clip"
        eao = tune_job.Objective(tracker, [seq], config)({"window_influence": 0.3})
        assert 0.0 <= eao <= 1.0
        assert tracker.track_jit._cache_size() == 1


@pytest.fixture(scope="module")
def got_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("tune_data")
    # Textured targets that move 4-5 px a frame: a tracker whose window influence is 1
    # never leaves the initial centre and loses them.
    val = {
        "v1": Clip(n=10, v=(4.0, 2.4), seed=0),
        "v2": Clip(n=10, v=(-2.4, 4.0), start=(100.0, 20.0), seed=1),
    }
    write_split(root, "val", val)
    write_split(root, "test", {"t1": Clip(n=8, v=(4.0, -2.0), start=(40.0, 80.0), seed=2)})
    return root


def _config(root: pathlib.Path, checkpoint: pathlib.Path, num_trials: int):
    config = tune_config.get_config()
    config.checkpoint = str(checkpoint)
    config.eval.layout = "got10k"
    config.eval.root = str(root)
    config.tracker.siamfc.window_influence = 1.0  # deliberately bad: the box never moves
    config.tune.num_trials = num_trials
    return config


def test_tune_improves_a_bad_setting_and_resumes_after_a_kill(got_root, tmp_path, capsys):
    checkpoint = _checkpoint(tmp_path / "W2", names=("student",))
    work = tmp_path / "W5"
    config = _config(got_root, checkpoint, 3)
    config.eval.test_split = ""  # no test evaluation in the first run
    first = tune_job.run(config, str(work))
    assert first["test"] is None and not (work / "test").exists()
    trials = first["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2]
    assert trials[0]["baseline"] and trials[0]["params"]["window_influence"] == 1.0
    assert first["best"]["value"] > first["baseline_value"] + 0.2, first
    assert all(t["seconds"] > 0 for t in trials) and first["this_run"]["trials_per_minute"] > 0
    # A run killed during a trial leaves it RUNNING in tune.db.
    study = optuna.load_study(study_name="tune", storage=f"sqlite:///{work / 'tune.db'}")
    study.ask()
    second = tune_job.run(_config(got_root, checkpoint, 4), str(work))
    states = [(t["number"], t["state"]) for t in second["trials"]]
    assert states == [
        (0, "COMPLETE"),
        (1, "COMPLETE"),
        (2, "COMPLETE"),
        (3, "FAIL"),
        (4, "COMPLETE"),
    ]
    assert second["trials"][:3] == trials  # the same study, continued
    assert second["this_run"]["trials"] == 1
    saved = json.loads((work / "tune.json").read_text())
    assert saved["best"] == second["best"] and len(saved["trials"]) == 5
    assert (work / "tune_plot.png").stat().st_size > 0
    # The best setting, as evaluate / track take it.
    best = json.loads((work / "best_tracker.json").read_text())
    assert best["tracker"] == {"siamfc": second["best"]["params"]}
    section = tuned_tracker_config(
        _config(got_root, checkpoint, 1).tracker, work / "best_tracker.json"
    )
    assert section["siamfc"]["window_influence"] == second["best"]["params"]["window_influence"]
    assert section["siamfc"]["num_scales"] == 3  # the rest of config.tracker kept
    # Evaluated once on the test split, which the search never read.
    test = second["test"]
    assert test["split"] == "test" and test["sequences"] == 1
    assert 0 <= test["success_auc"] <= 1
    assert (
        "t1"
        in json.loads((work / "test" / "eval.json").read_text())["trackers"]["student"]["sequences"]
    )


def test_tuning_on_the_test_split_is_refused(tmp_path):
    config = tune_config.get_config()
    config.eval.split = "test"
    with pytest.raises(ConfigError, match=r"config.eval.split='test': tuning on the test split"):
        tune_job.run(config, str(tmp_path))
    config.eval.split = "val"
    config.eval.test_split = "val"
    with pytest.raises(ConfigError, match=r"config.eval.split='val'"):
        tune_job.run(config, str(tmp_path))
