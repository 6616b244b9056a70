"""Model, training, tracking, export and benchmark code imports without TensorFlow.

The GPU machine has JAX but no TensorFlow: only data_pipelines/ (the tf.data and TFDS
modules) may import it, and only when those run.
"""

import subprocess
import sys

from conftest import REPO_ROOT

ALLOWED = (
    "data_pipelines.pairs",
    "data_pipelines.graph_pairs",
    "data_pipelines.augment",
    "data_pipelines.crop_ops",
    "data_pipelines.tfds_builders",
    "data_pipelines.prepare_tfds",
    "benchmarks.input_pipeline",
)

SCRIPT = """
import importlib, importlib.abc, pathlib, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorflow_datasets"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
allowed = set(sys.argv[1].split(","))
root = pathlib.Path(".")
names = []
for folder in ("dsiam_jax", "data_pipelines", "benchmarks", "configs"):
    for path in sorted((root / folder).rglob("*.py")):
        name = ".".join(path.with_suffix("").parts)
        if name.endswith("__init__"):
            name = name[: -len(".__init__")]
        if name not in allowed:
            names.append(name)
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_everything_but_the_input_pipeline_imports_without_tensorflow():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(ALLOWED)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split()[-1]) > 80  # every module was imported
