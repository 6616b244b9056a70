"""Multi-job runs: the default pipeline end to end, the ablation sweep, resuming after a kill.

The CLI runs use tiny networks, 103/151 crops, on-device toy pairs for training and
a few short synthetic sequences for evaluation; the subprocesses share a persistent
XLA cache and compile without LLVM optimisation (the same programs recur).
"""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO_ROOT, cli_env, run_cli

from configs import ablation as ablation_config
from configs import default as default_config
from dsiam_jax import jobs
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import ablation, pipeline, stages

TINY = (
    "--config.pipeline.laptop.teacher_channels=(8,16,16,16,16)",
    "--config.pipeline.laptop.student_channels=(8,16,16,16,16)",
    "--config.pipeline.laptop.teacher_steps=3",
    "--config.pipeline.laptop.student_steps=2",
    "--config.pipeline.laptop.template_size=103",
    "--config.pipeline.laptop.search_size=151",
    "--config.pipeline.eval_sequences=2",
    "--config.data.synthetic.sequence_length=8",
    "--config.data.synthetic.num_sequences=8",
    "--config.train.input=toy",
)


@pytest.fixture(scope="module")
def pipeline_run(fast_subprocesses, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipeline")
    proc = run_cli("--config=configs/default.py", f"--workdir={workdir}", *TINY)
    return workdir, proc


def test_pipeline_end_to_end_writes_report_and_plots(pipeline_run):
    workdir, _ = pipeline_run
    report = (workdir / "report.md").read_text()
    for name in ("teacher", "student_0", "student_1", "student_scratch"):
        assert f"| {name} |" in report
    assert "Distillation vs training from scratch" in report
    assert "Distilled students vs their teacher" in report
    for png in (
        "size_accuracy_speed.png",
        "evaluate/success_plot.png",
        "evaluate/precision_plot.png",
    ):
        assert (workdir / png).stat().st_size > 1000
    summary = json.loads((workdir / "report.json").read_text())
    rows = {r["name"]: r for r in summary["models"]}
    assert rows["teacher"]["compression"] == pytest.approx(1.0)
    for r in rows.values():
        assert 0.0 <= r["success_auc"] <= 1.0 and r["fps"] > 0
    # Both comparisons, recomputed with NumPy from the per-sequence scores of eval.json.
    seqs = json.loads((workdir / "evaluate" / "eval.json").read_text())["trackers"]
    auc = {m: np.array([s["success_auc"] for s in seqs[m]["sequences"].values()]) for m in rows}
    students = (auc["student_0"] + auc["student_1"]) / 2
    for key, diffs in (
        ("distilled_minus_scratch", students - auc["student_scratch"]),
        ("teacher_minus_distilled", auc["teacher"] - students),
    ):
        got = summary["comparisons"][key]
        assert got["n"] == len(diffs) == 2
        assert got["mean"] == pytest.approx(diffs.mean())
        assert got["se"] == pytest.approx(diffs.std(ddof=1) / np.sqrt(len(diffs)))
    # The synthetic test split is a GOT-10k folder any toolkit can read.
    assert (workdir / "data/synthetic_got10k/test/list.txt").is_file()


def test_pipeline_runs_again_without_redoing_stages(pipeline_run):
    workdir, _ = pipeline_run
    before = (workdir / "teacher" / stages.DONE_FILE).read_text()
    proc = run_cli("--config=configs/default.py", f"--workdir={workdir}", *TINY)
    assert proc.stderr.count("done already, skipped") == 5
    assert (workdir / "teacher" / stages.DONE_FILE).read_text() == before


def test_sweep_expands_to_expected_runs():
    config = ablation_config.get_config()
    runs = ablation.expand(config, "configs/ablation.py")
    names = [ablation.run_name(r) for r in runs]
    rows = ["scratch", "soft", "soft_bg", "share_2", "share_3"]  # no bounded row for SiamFC
    assert names == [f"{r}_seed{s}" for r in rows for s in (0, 1, 2)]
    by_name = {ablation.run_name(r): r for r in runs}
    assert by_name["scratch_seed1"]["mode"] == "train"
    assert by_name["soft_seed0"]["overrides"]["distill.beta"] == 1.0
    assert by_name["soft_bg_seed0"]["overrides"]["distill.beta"] == 0.1
    assert len(by_name["share_3_seed2"]["overrides"]["distill.students"]) == 3
    assert by_name["share_2_seed0"]["overrides"]["distill.share"] is True
    # SiamRPN adds the teacher-bounded regression row.
    config.model.kind, config.model.head = "siamrpn", "upchannel"
    rpn = {ablation.run_name(r) for r in ablation.expand(config, "configs/ablation.py")}
    assert "soft_bg_bound_seed0" in rpn and len(rpn) == 18
    st = ablation.make_stages(config, runs)
    assert [s.name for s in st[:3]] == ["data", "teacher", "scratch_seed0"]
    assert st[3].name == "scratch_seed0_eval" and st[3].mode == "evaluate"


def test_pipeline_laptop_runs_have_their_own_learning_rate_ends():
    config = default_config.get_config()
    lap = config.pipeline.laptop
    lap.teacher_lr_end, lap.student_lr_end = 2e-3, 3e-3
    by_name = {st.name: st for st in pipeline.make_stages(config)}
    for name in ("students", "scratch"):
        assert by_name[name].overrides["train.lr_end"] == 3e-3
    assert by_name["teacher"].overrides["train.lr_end"] == 2e-3
    config.pipeline.size = "full"  # full size: config.train as it is
    by_name = {st.name: st for st in pipeline.make_stages(config)}
    for name in ("teacher", "students", "scratch"):
        assert by_name[name].overrides["train.lr_end"] == config.train.lr_end


def test_killed_sweep_resumes(pipeline_run, tmp_path):
    teacher = pipeline_run[0] / "teacher"
    args = [
        "--config=configs/ablation.py",
        f"--workdir={tmp_path}",
        *TINY,
        "--config.ablation.seeds=(0,)",
        "--config.ablation.rows=('scratch','soft_bg')",
        f"--config.ablation.teacher_checkpoint={teacher}",
    ]
    env = cli_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsiam_jax.main", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = tmp_path / "scratch_seed0" / stages.DONE_FILE
    deadline = time.time() + 300
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.exists(), "the first run never finished"
    assert not (tmp_path / "soft_bg_seed0_eval" / stages.DONE_FILE).exists()
    assert not (tmp_path / "ablation.md").exists()

    resumed = run_cli(*args)
    assert "scratch_seed0 (train): done already, skipped" in resumed.stderr
    report = (tmp_path / "ablation.md").read_text()
    assert "| scratch |" in report and "| soft_bg |" in report
    assert "Distillation vs from scratch" in report


def test_stage_runner_skips_finished_stages(tmp_path, monkeypatch):
    """Unit level: a stage marked done is never rerun; overrides see earlier stage dirs."""
    calls = []

    def fake_job(config, workdir):
        calls.append((config.mode, config.checkpoint, workdir))
        if config.seed == 99:
            raise RuntimeError("killed")
        return workdir

    monkeypatch.setitem(jobs.MODES, "fake", f"{__name__}:_FAKE")
    monkeypatch.setattr(sys.modules[__name__], "_FAKE", fake_job, raising=False)
    base = __import__("configs.default", fromlist=["get_config"]).get_config()
    plan = [
        stages.Stage("a", "fake", {}),
        stages.Stage("b", "fake", {"checkpoint": lambda d: d["a"], "seed": 99}),
    ]
    with pytest.raises(RuntimeError, match="killed"):
        stages.run_stages(base, tmp_path, plan)
    assert stages.is_done(tmp_path / "a") and not stages.is_done(tmp_path / "b")
    plan[1] = stages.Stage("b", "fake", {"checkpoint": lambda d: d["a"]})
    stages.run_stages(base, tmp_path, plan)
    assert [c[0] for c in calls] == ["fake", "fake", "fake"]  # a once, b twice
    assert calls[-1][1] == str(tmp_path / "a")


def test_unknown_override_names_the_field():
    base = __import__("configs.default", fromlist=["get_config"]).get_config()
    with pytest.raises(ConfigError, match="train.num_stepz"):
        stages.apply_overrides(base, {"train.num_stepz": 3})
    with pytest.raises(ConfigError, match="section 'trian'"):
        stages.apply_overrides(base, {"trian.num_steps": 3})
