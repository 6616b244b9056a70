"""Training from the command line: kill-and-resume is exact, a tiny distillation learns,
a non-finite loss stops with a clear message and keeps the last good checkpoint.

Tiny networks and 103/151 crops (a 7x7 response) keep this fast. The subprocesses
share a persistent XLA compilation cache and compile without LLVM optimisation, so a
resumed run (the same program) does not compile again.
"""

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from dsiam_jax import checkpoints as C

TINY = (
    "--config.train.batch_size=8",
    "--config.data.template_size=103",
    "--config.data.search_size=151",
    "--config.train.log_every=1",
)
TEACHER = (
    "--config=configs/siamfc_teacher.py",
    "--config.model.channels=(8,16,16,16,16)",
    "--config.train.num_steps=4",
    "--config.train.checkpoint_every=2",
    "--config.train.sync_batchnorm=False",  # the per-device BatchNorm path (N-vs-1 covers sync)
    *TINY,
)


@pytest.fixture(scope="module")
def teacher(fast_subprocesses, tmp_path_factory):
    """A SiamFC teacher trained for 4 steps straight on the data pipeline (synthetic data)."""
    workdir = tmp_path_factory.mktemp("teacher")
    run_cli(*TEACHER, f"--workdir={workdir}")
    return workdir


def variables(workdir, name):
    model = C.load_models(workdir)[name]
    return model, dict(zip(*_flatten(model.variables)))


def _flatten(tree, prefix=""):
    keys, values = [], []
    for k, v in tree.items():
        if isinstance(v, dict):
            sub_k, sub_v = _flatten(v, f"{prefix}{k}/")
            keys += sub_k
            values += sub_v
        else:
            keys.append(prefix + k)
            values.append(np.asarray(v))
    return keys, values


def metrics_by_step(workdir):
    """`{step: [row, ...]}` in the order written: a resumed run moves the lines of the
    steps it redoes to metrics.superseded.jsonl, so those come first."""
    rows = {}
    superseded = workdir / "metrics.superseded.jsonl"
    lines = superseded.read_text().splitlines() if superseded.is_file() else []
    for line in lines + (workdir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows.setdefault(row["step"], []).append(row)
    return rows


def test_kill_and_resume_is_exact(teacher, tmp_path):
    # Stop after step 3 as if killed (checkpoint 2 on disk, step 3 lost), then rerun.
    run_cli(*TEACHER, f"--workdir={tmp_path}", "--config.train.exit_after_steps=3")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["2"]
    proc = run_cli(*TEACHER, f"--workdir={tmp_path}")
    assert "resuming from the checkpoint at step 2" in proc.stderr
    straight, a = variables(teacher, "siamfc_teacher")
    resumed, b = variables(tmp_path, "siamfc_teacher")
    assert straight.role == resumed.role == "teacher"
    assert straight.info["step"] == resumed.info["step"] == 4
    assert straight.spec.channels == (8, 16, 16, 16, 16)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(b[key], a[key], err_msg=key)
    assert list((teacher).glob("events.out.tfevents.*"))  # TensorBoard scalars


def test_distillation_learns_resumes_and_stops_on_nan(teacher, tmp_path):
    workdir = tmp_path / "distill"
    distill = (
        "--config=configs/dstfc.py",
        "--config.distill.students=((8,16,16,16,16),(8,16,16,16,8))",
        "--config.train.input=toy",
        "--config.train.num_steps=20",
        "--config.train.checkpoint_every=8",
        "--config.train.lr_start=0.2",
        "--config.train.lr_end=0.05",
        "--config.data.augment.search_shift=24",
        *TINY,
    )
    own_teacher = tmp_path / "teacher"  # a resume must name the same teacher path
    shutil.copytree(teacher, own_teacher)
    run_cli(
        *distill,
        f"--config.teacher.checkpoint={own_teacher}",
        f"--workdir={workdir}",
        "--config.train.exit_after_steps=12",
    )

    # A NaN in the teacher: the resumed run must stop at its first step (9), naming
    # the terms, and leave the checkpoint at step 8 as the latest.
    model = C.load_models(teacher)["siamfc_teacher"]
    model.variables["params"]["backbone"]["conv1"]["kernel"][0, 0, 0, 0] = np.nan
    shutil.rmtree(own_teacher)
    store = C.CheckpointStore(own_teacher)
    store.save(4, {"siamfc_teacher": model})
    store.close()
    broken = tmp_path / "broken"
    shutil.copytree(workdir, broken)
    proc = run_cli(
        *distill,
        f"--config.teacher.checkpoint={own_teacher}",
        f"--workdir={broken}",
        check=False,
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "error: non-finite loss at step 9:" in proc.stderr
    assert "student_0/soft=nan" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in (broken / "checkpoints").iterdir()) == ["8"]

    shutil.rmtree(own_teacher)
    shutil.copytree(teacher, own_teacher)  # the trained teacher again
    run_cli(*distill, f"--config.teacher.checkpoint={own_teacher}", f"--workdir={workdir}")
    rows = metrics_by_step(workdir)
    assert sorted(rows) == list(range(1, 21))
    for step in range(9, 13):  # redone after the resume: the same numbers
        first, again = rows[step]
        assert first == {**again, **{k: first[k] for k in first if k.endswith("per_sec")}}
    for name in ("student_0", "student_1"):
        for term in ("gt", "soft", "share", "total", "grad_norm"):
            assert f"{name}/{term}" in rows[20][-1]
    early = np.mean([rows[s][-1]["loss"] for s in range(1, 5)])
    late = np.mean([rows[s][-1]["loss"] for s in range(17, 21)])
    assert late < 0.97 * early, (early, late)

    models = C.load_models(workdir)
    assert sorted(models) == ["student_0", "student_1"]  # the teacher is not saved
    assert models["student_1"].spec.channels == (8, 16, 16, 16, 8)
    assert models["student_0"].role == "student" and models["student_0"].info["step"] == 20
    assert models["student_0"].info["teacher"] == "siamfc_teacher"


def test_moving_average_checkpoints_and_resumes_exactly(teacher, tmp_path):
    """train.ema_decay: the checkpoint gives trackers the average and keeps the raw
    weights as `<name>_raw`, which equal the run without it (the average does not
    steer training); kill-and-resume is exact for both; publishing leaves the raw
    weights out; a workdir written without it does not resume with it."""
    ema = (*TEACHER, "--config.train.ema_decay=0.5")
    run_cli(*ema, f"--workdir={tmp_path}", "--config.train.exit_after_steps=3")
    run_cli(*ema, f"--workdir={tmp_path}")
    straight = tmp_path / "straight"
    run_cli(*ema, f"--workdir={straight}")
    models = C.load_models(tmp_path)
    assert sorted(models) == ["siamfc_teacher", "siamfc_teacher_raw"]
    assert models["siamfc_teacher"].role == "teacher" and models["siamfc_teacher_raw"].role == "raw"
    assert C.pick_model(models, "", "w", "").name == "siamfc_teacher"  # a teacher to distil from
    for name in models:
        _, resumed = variables(tmp_path, name)
        _, uninterrupted = variables(straight, name)
        for key in uninterrupted:
            np.testing.assert_array_equal(resumed[key], uninterrupted[key], err_msg=f"{name} {key}")
    _, without = variables(teacher, "siamfc_teacher")
    _, raw = variables(tmp_path, "siamfc_teacher_raw")
    _, average = variables(tmp_path, "siamfc_teacher")
    for key in without:
        np.testing.assert_array_equal(raw[key], without[key], err_msg=key)
    assert any(not np.array_equal(average[k], raw[k]) for k in raw if "kernel" in k)

    published = tmp_path / "published"
    run_cli(
        "--config=configs/publish.py", f"--config.checkpoint={tmp_path}", f"--workdir={published}"
    )
    assert sorted(p.name for p in published.iterdir() if p.is_dir()) == ["siamfc_teacher"]

    proc = run_cli(*ema, f"--workdir={teacher}", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "train.ema_decay (0.0 -> 0.5)" in proc.stderr.splitlines()[-1]
