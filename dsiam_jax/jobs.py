"""`config.mode` -> the library function that runs that job.

Every job is `run(config, workdir) -> result` in a library module; `main.py` only
parses flags and calls `run_job`. Modules are imported lazily so that a job
never pays for (or needs the dependencies of) another one. `run_job` runs every job
inside `dsiam_jax.workdir.open_run`: the workdir is locked for the run, a resume is
checked against the saved `config.json`, then the config is recorded there.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
from typing import Any

import ml_collections
from absl import logging

from dsiam_jax import parallel
from dsiam_jax import workdir as workdir_lib
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


def resolve(mode: str):
    """The job function for `mode`, with a clear error for an unknown one."""
    if mode not in MODES:
        raise ConfigError(f"config.mode={mode!r}: expected one of {sorted(MODES)}")
    module, _, func = MODES[mode].partition(":")
    return getattr(importlib.import_module(module), func)


def run_job(config: ml_collections.ConfigDict, workdir: str, config_file: str | None = None) -> Any:
    """Sets up the distributed runtime and the workdir (`workdir.open_run`: lock,
    resume check, `config.json`), then runs `config.mode`.

    `config_file` (the `--config` path) is passed to jobs that take it (a sweep
    reads its `sweep()` function from there).
    """
    job = resolve(config.mode)
    parallel.initialize_distributed(config)
    path = pathlib.Path(workdir).expanduser().resolve()
    with workdir_lib.open_run(config, path):
        logging.info("mode=%s workdir=%s", config.mode, path)
        if "config_file" in inspect.signature(job).parameters:
            return job(config, str(path), config_file=config_file)
        return job(config, str(path))
