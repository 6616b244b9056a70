"""`config.mode` -> the library function that runs that job.

Every job is `run(config, workdir) -> result` in a library module; `main.py` only
parses flags and calls `run_job`. Modules are imported lazily so that a job
never pays for (or needs the dependencies of) another one.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib
from typing import Any

import ml_collections
from absl import logging

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError

# mode -> "module:function"
MODES: dict[str, str] = {
    "summary": "dsiam_jax.summary_job:run",
    "write_synthetic": "data_pipelines.synthetic.job:run",
    "train": "dsiam_jax.train.trainer:run",
    "distill": "dsiam_jax.train.trainer:run",
    "evaluate": "dsiam_jax.evaluation.benchmark_run:run",
    "track": "dsiam_jax.tracking.track_job:run",
    "export": "dsiam_jax.export.export_job:run",
    "import_torch": "dsiam_jax.export.torch_import_job:run",
    "pipeline": "dsiam_jax.experiments.pipeline:run",
    "ablation": "dsiam_jax.experiments.ablation:run",
    "publish": "dsiam_jax.publish_job:run",
}


def write_config(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
    """Writes the resolved config to `WORKDIR/config.json` (process 0 only)."""
    if parallel.is_main_process():
        text = json.dumps(config.to_dict(), indent=2, sort_keys=True, default=str)
        (workdir / "config.json").write_text(text + "\n")


def resolve(mode: str):
    """The job function for `mode`, with a clear error for an unknown one."""
    if mode not in MODES:
        raise ConfigError(f"config.mode={mode!r}: expected one of {sorted(MODES)}")
    module, _, func = MODES[mode].partition(":")
    return getattr(importlib.import_module(module), func)


def run_job(config: ml_collections.ConfigDict, workdir: str, config_file: str | None = None) -> Any:
    """Sets up the workdir and distributed runtime, then runs `config.mode`.

    `config_file` (the `--config` path) is passed to jobs that take it (a sweep
    reads its `sweep()` function from there).
    """
    job = resolve(config.mode)
    parallel.initialize_distributed(config)
    path = pathlib.Path(workdir).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    write_config(config, path)
    logging.info("mode=%s workdir=%s", config.mode, path)
    if "config_file" in inspect.signature(job).parameters:
        return job(config, str(path), config_file=config_file)
    return job(config, str(path))
