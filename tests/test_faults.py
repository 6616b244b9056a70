"""Fault injection: every bad input or fault ends in one `error:` line (exit 2, no
traceback), nothing hangs, and no earlier result is lost or overwritten.

Each case runs through the CLI (`python -m dsiam_jax.main`) unless noted. A tiny
SiamFC (8-16-16-16-16, 103/151 crops) trained for 4 steps on a GOT-10k folder with one
corrupt frame is the shared earlier result; cases that change it work on a copy.
Storage faults are injected into the CLI process by a wrapper (`run_patched`).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, cli_env, run_cli
from test_data_fixtures import write_frames, write_got10k

from data_pipelines import sources
from dsiam_jax import checkpoints as C
from dsiam_jax import workdir as workdir_lib
from dsiam_jax.errors import ConfigError

TINY = (
    "--config=configs/siamfc_teacher.py",
    "--config.model.channels=(8,16,16,16,16)",
    "--config.data.template_size=103",
    "--config.data.search_size=151",
    "--config.train.batch_size=4",
    "--config.train.num_steps=4",
    "--config.train.checkpoint_every=2",
    "--config.train.log_every=1",
    "--config.train.max_to_keep=0",
)
TOY = (*TINY, "--config.train.input=toy")


def assert_one_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, exactly one `error:` line containing `fragments`, no traceback."""
    output = proc.stdout + proc.stderr
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2, output[-3000:]
    assert len(errors) == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def run_patched(patch: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI with `patch` (Python source) executed first in the same process."""
    launcher = (
        f"{patch}\n"
        "import sys\n"
        "from absl import app\n"
        "from dsiam_jax import main\n"
        "sys.argv = ['dsiam_jax.main', *sys.argv[1:]]\n"
        "app.run(main.main, flags_parser=main.parse_flags)\n"
    )
    env = cli_env()
    return subprocess.run(
        [sys.executable, "-c", launcher, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def steps_of(workdir: pathlib.Path) -> list[pathlib.Path]:
    return sorted((workdir / "checkpoints").iterdir(), key=lambda p: p.name)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> pathlib.Path:
    """A GOT-10k train split (two sequences) with one truncated JPEG."""
    root = tmp_path_factory.mktemp("got10k")
    write_got10k(root, "train")
    bad = root / "train" / "GOT-10k_Train_000001" / "00000002.jpg"
    bad.write_bytes(bad.read_bytes()[:40])
    return root


@pytest.fixture(scope="module")
def trained(fast_subprocesses, dataset, tmp_path_factory) -> tuple[pathlib.Path, tuple]:
    """Trained as a user would after a kill: stopped after step 3 (checkpoint 2 on
    disk), then resumed to step 4. Returns the workdir and its flags."""
    workdir = tmp_path_factory.mktemp("trained")
    flags = (*TINY, "--config.data.layout=got10k", f"--config.data.root={dataset}")
    run_cli(*flags, f"--workdir={workdir}", "--config.train.exit_after_steps=3")
    proc = run_cli(*flags, f"--workdir={workdir}")
    assert "resuming from the checkpoint at step 2" in proc.stderr
    return workdir, flags, proc


def copy_of(trained_dir: pathlib.Path, tmp_path: pathlib.Path) -> pathlib.Path:
    target = tmp_path / "work"
    shutil.copytree(trained_dir, target)
    (target / workdir_lib.LOCK_FILE).unlink(missing_ok=True)
    return target


# 1. Errors inside the input pipeline end the process (no hang, no TF traceback).


def test_pipeline_error_ends_the_process_in_one_line(fast_subprocesses, tmp_path):
    root = tmp_path / "data"
    write_got10k(root, "train")
    for f in (root / "train" / "GOT-10k_Train_000002").glob("*.jpg"):
        f.write_bytes(f.read_bytes()[:60])  # one sequence wholly truncated
    proc = run_cli(
        *TINY,
        "--config.data.layout=got10k",
        f"--config.data.root={root}",
        "--config.data.max_attempts=1",
        f"--workdir={tmp_path / 'w'}",
        check=False,
        timeout=240,  # the bug this guards against was a hang after the error line
    )
    assert_one_error(proc, "no readable pair for example", "in 1 attempts")
    assert "op_kernel" not in proc.stderr  # TensorFlow did not see (and log) the error


# 11. Unreadable frames are totalled; a resumed run does not repeat steps in metrics.jsonl.


def test_resume_keeps_each_step_once_and_counts_unreadable_frames(trained):
    workdir, _, proc = trained
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    superseded = (workdir / "metrics.superseded.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in superseded] == [3]  # redone after the kill
    assert all(r["unreadable_frames"] >= 1 for r in rows[2:])  # counted in this process
    assert "unreadable frames 1" in proc.stderr  # the total, in the progress line
    assert [p.name for p in steps_of(workdir)] == ["2", "4"]


# 2. One run per workdir.


def test_a_second_run_on_a_locked_workdir_fails_at_once(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    before = (workdir / "config.json").read_text()
    lock = workdir_lib.WorkdirLock.acquire(workdir, "train")
    try:
        proc = run_cli(*trained[1], f"--workdir={workdir}", check=False)
    finally:
        lock.release()
    assert_one_error(proc, "is in use by another run", f"pid {os.getpid()}")
    assert (workdir / "config.json").read_text() == before

    # The OS releases the lock of a process killed with -9.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, sys, time\n"
            "from dsiam_jax.workdir import WorkdirLock\n"
            "WorkdirLock.acquire(pathlib.Path(sys.argv[1]), 'train')\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
            str(workdir),
        ],
        cwd=REPO_ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(workdir_lib.WorkdirBusyError, match=f"pid {holder.pid}"):
            workdir_lib.WorkdirLock.acquire(workdir, "train")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    workdir_lib.WorkdirLock.acquire(workdir, "train").release()


# 3. Resume only with a config that computes the same result.


def test_resume_refuses_a_config_that_changes_the_result(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    before = (workdir / "config.json").read_text()
    proc = run_cli(
        *trained[1],
        "--config.train.lr_start=0.5",
        "--config.seed=3",
        f"--workdir={workdir}",
        check=False,
    )
    line = assert_one_error(proc, "would change the result", "train.lr_start (0.01 -> 0.5)")
    assert "seed (0 -> 3)" in line and "log_every" not in line
    assert (workdir / "config.json").read_text() == before  # not overwritten
    proc = run_cli(
        "--config=configs/evaluate.py", f"--config.checkpoint={workdir}", f"--workdir={workdir}",
        check=False,
    )  # fmt: skip
    assert_one_error(proc, "holds a mode=train run", "use another --workdir for mode=evaluate")

    # Fields that cannot change the result pass (and are then recorded).
    proc = run_cli(
        *trained[1],
        "--config.train.log_every=2",
        "--config.train.exit_after_steps=9",
        "--config.train.num_devices=2",
        f"--workdir={workdir}",
    )
    assert "nothing to train" in proc.stderr
    assert json.loads((workdir / "config.json").read_text())["train"]["log_every"] == 2


# 5. Damaged checkpoints: fall back to the newest intact step; loading says which.


def _largest_weight_file(step_dir: pathlib.Path) -> pathlib.Path:
    return max((step_dir / "models").rglob("d/*"), key=lambda p: p.stat().st_size)


DAMAGE = {
    "meta deleted": lambda d: shutil.rmtree(d / "meta"),
    "_METADATA deleted": lambda d: (d / "models" / "_METADATA").unlink(),
    "weights truncated": lambda d: os.truncate(_largest_weight_file(d), 100),
    "weights deleted": lambda d: _largest_weight_file(d).unlink(),
    "meta not JSON": lambda d: (d / "meta" / "metadata").write_text("{not json"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_checkpoint_is_named_and_the_previous_one_restores(trained, tmp_path, damage):
    workdir = copy_of(trained[0], tmp_path)
    DAMAGE[damage](workdir / "checkpoints" / "4")
    with pytest.raises(C.CheckpointDamagedError) as e:
        C.load_models(workdir)
    assert str(workdir / "checkpoints" / "4") in str(e.value) and "\n" not in str(e.value)
    assert "an older step may be intact" in str(e.value)
    intact = C.load_models(workdir / "checkpoints" / "2")["siamfc_teacher"]

    store = C.CheckpointStore(workdir)  # what a resumed training does
    step, models = C.restore_newest_intact(store, store.restore_models)
    store.close()
    assert step == 2 and (workdir / C.DAMAGED_DIR / "4").is_dir()
    got = models["siamfc_teacher"].variables["params"]["backbone"]["conv1"]["kernel"]
    want = intact.variables["params"]["backbone"]["conv1"]["kernel"]
    np.testing.assert_array_equal(got, want)


def test_damaged_train_state_is_found_although_the_models_load(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    state_files = (workdir / "checkpoints" / "4" / "train_state").rglob("d/*")
    os.truncate(max(state_files, key=lambda p: p.stat().st_size), 10)
    assert C.load_models(workdir)["siamfc_teacher"].info["step"] == 4  # models intact
    store = C.CheckpointStore(workdir)
    damage = store.damage(4)
    store.close()
    assert damage.startswith("train_state: ") and "\n" not in damage


def test_training_resumes_from_the_newest_intact_checkpoint(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    os.truncate(_largest_weight_file(workdir / "checkpoints" / "4"), 100)
    proc = run_cli(*trained[1], f"--workdir={workdir}")
    assert f"checkpoint {workdir / 'checkpoints' / '4'} is damaged" in proc.stderr
    assert "resuming from the checkpoint at step 2" in proc.stderr
    assert [p.name for p in steps_of(workdir)] == ["2", "4"]
    retrained = C.load_models(workdir)["siamfc_teacher"].variables["params"]["backbone"]
    original = C.load_models(trained[0])["siamfc_teacher"].variables["params"]["backbone"]
    for layer in ("conv1", "conv5"):  # exact resume: the weights the damaged step held
        np.testing.assert_array_equal(retrained[layer]["kernel"], original[layer]["kernel"])

    (workdir / "checkpoints" / "2" / "meta" / "metadata").write_text("[]")
    shutil.rmtree(workdir / "checkpoints" / "4" / "meta")
    proc = run_cli("--config=configs/evaluate.py", f"--config.checkpoint={workdir}",
                   f"--workdir={tmp_path / 'eval'}", check=False)  # fmt: skip
    assert_one_error(proc, f"checkpoint {workdir / 'checkpoints' / '4'} is damaged", "meta")


# 6. Storage faults.


def test_read_only_workdir_is_one_line(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    patch = (
        "import errno, os, pathlib\n"
        f"_ro = {str(workdir)!r}\n"
        "_open = os.open\n"
        "def _read_only_open(path, flags, *a, **k):\n"
        "    if str(path).startswith(_ro) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):\n"
        "        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))\n"
        "    return _open(path, flags, *a, **k)\n"
        "os.open = _read_only_open\n"
    )
    proc = run_patched(patch, *trained[1], f"--workdir={workdir}")
    assert_one_error(proc, f"cannot write to workdir {workdir}", "Read-only file system")


def test_full_disk_while_checkpointing_is_one_line_and_leaves_no_partial(trained, tmp_path):
    workdir = copy_of(trained[0], tmp_path)
    shutil.rmtree(workdir / "checkpoints" / "4")  # killed before it: resume from 2
    patch = (  # the JSON write of checkpoint 4's meta fails as on a full disk
        "import errno, os\n"
        "from orbax.checkpoint._src.handlers import json_checkpoint_handler as J\n"
        "_save = J.JsonCheckpointHandler._save_fn\n"
        "async def _full(self, x, directory):\n"
        "    if x.get('step') == 4:\n"
        "        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory))\n"
        "    return await _save(self, x, directory)\n"
        "J.JsonCheckpointHandler._save_fn = _full\n"
    )
    proc = run_patched(patch, *trained[1], f"--workdir={workdir}")
    assert_one_error(proc, "cannot write checkpoint 4", "No space left on device")
    assert [p.name for p in steps_of(workdir)] == ["2"]  # the earlier one is intact
    assert not list(workdir.rglob("*.orbax-checkpoint-tmp*"))
    assert C.load_models(workdir)["siamfc_teacher"].info["step"] == 2


# 7, 8, 10. Bad values: one line naming the field.


@pytest.mark.parametrize(
    "override,fragments",
    [
        ("--config.model.channels=eight", ("model.channels", "'eight' is not an integer")),
        ("--config.model.channels=(8,16.7,16,16,16)", ("16.7 is not an integer",)),
        ("--config.train.num_devices=8", ("config.train.num_devices=8", "have 4")),
        ("--config.train.batch_size=0", ("config.train.batch_size=0 must be positive",)),
        ("--config.modle=train", ('Did you mean "mode" instead of "modle"?',)),
    ],
)
def test_bad_overrides_end_in_one_line(tmp_path, override, fragments):
    proc = run_cli(*TOY, override, f"--workdir={tmp_path / 'w'}", check=False)
    line = assert_one_error(proc, *fragments)
    assert "\\n" not in line and "\\'" not in line  # not a repr


def test_bad_config_argument_ends_in_one_line(tmp_path):
    """A config file's `get_config` raising (an unknown phase) is reported by its own
    message, not the traceback ml_collections wraps around it."""
    proc = run_cli(
        "--config=configs/distill_study.py:bogus", f"--workdir={tmp_path / 'w'}", check=False
    )
    assert_one_error(proc, "configs/distill_study.py:bogus", "expected one of", "'pilot'")


def test_non_numeric_mixture_weight_names_the_weight():
    with pytest.raises(ConfigError, match="weight 'heavy' is not a number"):
        sources.parse_mixture("synthetic::heavy", "train")


# 9. A SiamFC teacher for the SiamRPN distillation config.


def test_rpn_distillation_refuses_a_siamfc_teacher(trained, tmp_path):
    proc = run_cli(
        "--config=configs/dstrpn.py",
        f"--config.teacher.checkpoint={trained[0]}",
        f"--workdir={tmp_path / 'w'}",
        check=False,
    )
    assert_one_error(proc, "holds a siamfc teacher", "distils siamrpn students")


# 4, 8, 12. Evaluation: failed sequences are recorded and the others scored.


def test_evaluation_records_failed_sequences_and_goes_on(trained, tmp_path):
    root = tmp_path / "bench"
    box = [20.0, 14.0, 16.0, 12.0]
    cases = {  # name: (first box, frame sizes)
        "a_good": (box, [(64, 48)] * 4),
        "b_unreadable": (box, [(64, 48)] * 4),
        "c_outside": ([300.0, 14.0, 16.0, 12.0], [(64, 48)] * 4),
        "d_resized": (box, [(64, 48), (64, 48), (80, 60), (80, 60)]),
        "e_negative": ([20.0, 14.0, -5.0, 12.0], [(64, 48)] * 4),
    }
    for name, (first, sizes) in cases.items():
        for i, size in enumerate(sizes):
            write_frames(root / name, [f"{i + 1:04d}.jpg"], size, [box])
        lines = [first] + [box] * (len(sizes) - 1)
        (root / name / "groundtruth.txt").write_text(
            "".join(",".join(f"{v:g}" for v in b) + "\n" for b in lines)
        )
    bad = root / "b_unreadable" / "0003.jpg"
    bad.write_bytes(bad.read_bytes()[:50])
    out = tmp_path / "eval"
    common = (
        "--config=configs/evaluate.py",
        f"--config.checkpoint={trained[0]}",
        "--config.eval.layout=folder",
        f"--config.eval.root={root}",
        "--config.eval.network_repeats=0",
        "--config.eval.plots=False",
    )
    proc = run_cli(*common, "--config.eval.max_sequences=-1", f"--workdir={out}", check=False)
    assert_one_error(proc, "config.eval.max_sequences=-1", ">= 0 (0 = all)")

    proc = run_cli(*common, f"--workdir={out}")
    report = json.loads((out / "eval.json").read_text())
    assert sorted(report["failed"]) == ["b_unreadable", "c_outside"]
    assert (
        "frame 3" in report["failed"]["b_unreadable"]
        and str(bad) in report["failed"]["b_unreadable"]
    )
    assert "lies outside the 64x48 frame" in report["failed"]["c_outside"]
    assert report["skipped"] == {
        "e_negative": "the initial box [20.0, 14.0, -5.0, 12.0] (x, y, w, h) has a negative width"
    }
    assert any("d_resized: frame 3 is 80x60 but frame 1 is 64x48" in w for w in report["warnings"])
    (tracker,) = report["trackers"].values()
    assert sorted(tracker["sequences"]) == ["a_good", "d_resized"]
    assert tracker["sequences"]["a_good"]["frames"] == 4
    results = out / "results" / "siamfc_teacher"
    boxes = [p.name for p in results.iterdir() if not p.name.endswith(("_time.txt", "_score.txt"))]
    assert sorted(boxes) == ["a_good.txt", "d_resized.txt"]
    summary = (out / "eval_summary.md").read_text()
    assert "3 sequence(s) not scored" in summary and "- b_unreadable: frame 3" in summary
    assert "warning: sequence b_unreadable failed" in proc.stdout
