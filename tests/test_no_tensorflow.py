"""Model, training, tracking, export and benchmark code imports without TensorFlow, and
the library and the GPU benchmarks without the CLI's packages either.

The GPU machine has JAX, Flax, optax and orbax but no TensorFlow, ml_collections or clu:
only data_pipelines/ (the tf.data and TFDS modules) may import TensorFlow, and only when
those run; only the CLI and its jobs (`dsiam_jax.main`, `dsiam_jax.jobs`) and the configs
may import ml_collections, so `benchmarks/gpu_check.sh` runs there as it is.
"""

import json
import subprocess
import sys

from conftest import REPO_ROOT

TENSORFLOW_ONLY = (
    "data_pipelines.pairs",
    "data_pipelines.graph_pairs",
    "data_pipelines.augment",
    "data_pipelines.crop_ops",
    "data_pipelines.tfds_builders",
    "data_pipelines.prepare_tfds",
    "benchmarks.input_pipeline",
)
CLI_ONLY = ("dsiam_jax.main", "dsiam_jax.jobs")  # and everything below them

# Imports every module under `folders` except those under `skipped` (prefixes) with the
# `absent` packages made uninstalled (an import fails, importlib.util.find_spec says None).
SCRIPT = """
import importlib, json, pathlib, sys

args = json.loads(sys.argv[1])
for name in args["absent"]:
    sys.modules[name] = None
skipped = tuple(args["skipped"])
names = []
for folder in args["folders"]:
    for path in sorted(pathlib.Path(folder).rglob("*.py")):
        name = ".".join(path.with_suffix("").parts)
        if name.endswith("__init__"):
            name = name[: -len(".__init__")]
        if not any(name == s or name.startswith(s + ".") for s in skipped):
            names.append(name)
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def run_python(script: str, *args: str) -> str:
    """`script` in a fresh Python from the repo root: its stdout; fails with its traceback."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def import_all(absent, folders, skipped) -> int:
    """The number of modules imported."""
    args = json.dumps({"absent": absent, "folders": folders, "skipped": skipped})
    return int(run_python(SCRIPT, args).split()[-1])


def test_everything_but_the_input_pipeline_imports_without_tensorflow():
    folders = ["dsiam_jax", "data_pipelines", "benchmarks", "configs"]
    count = import_all(["tensorflow", "tensorflow_datasets"], folders, TENSORFLOW_ONLY)
    assert count > 80  # every module was imported


def test_library_and_gpu_benchmarks_import_with_jax_alone():
    absent = ["tensorflow", "tensorflow_datasets", "ml_collections", "clu"]
    skipped = TENSORFLOW_ONLY + CLI_ONLY
    count = import_all(absent, ["dsiam_jax", "benchmarks"], skipped)
    assert count > 60


WRITE_METRICS = """
import sys
for name in ("tensorflow", "clu"):
    sys.modules[name] = None
from dsiam_jax.train import metrics_log
for folder, main in ((sys.argv[1], True), (sys.argv[2], False)):
    writer = metrics_log.create_writer(folder, main_process=main)
    for step in (10, 20):
        writer.write_scalars(step, {"loss": 1.0 / step, "student_0/soft": step * 0.5})
    writer.flush()
    writer.close()
"""


def test_training_metrics_reach_tensorboard_without_tensorflow(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    main, other = tmp_path / "main", tmp_path / "other"
    main.mkdir()
    other.mkdir()
    run_python(WRITE_METRICS, str(main), str(other))
    events = event_accumulator.EventAccumulator(str(main))
    events.Reload()
    assert sorted(events.Tags()["scalars"]) == ["loss", "student_0/soft"]
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss")] == [(10, 0.1), (20, 0.05)]
    assert [(e.step, e.value) for e in events.Scalars("student_0/soft")] == [(10, 5.0), (20, 10.0)]
    assert list(other.iterdir()) == []  # processes other than 0 only log
