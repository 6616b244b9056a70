"""The jobs layer: `config.mode` -> the `run(config, workdir)` that does it.

Imports go one way: `dsiam_jax.main` -> `dsiam_jax.jobs` -> the library
(`models`, `train`, `tracking`, `evaluation`, `export`, ...) and `data_pipelines`.
A job turns the ml_collections config into what the library takes (settings,
models, sequences, batch iterators); the library never imports a job or
`data_pipelines` (tests/test_layering.py). `main.py` only parses flags and calls
`run_job`. Modules are imported lazily so that a job never pays for (or needs the
dependencies of) another one. `run_job` runs every job
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
    "summary": "dsiam_jax.jobs.summary:run",
    "write_synthetic": "data_pipelines.synthetic.job:run",
    "train": "dsiam_jax.jobs.train:run",
    "distill": "dsiam_jax.jobs.train:run",
    "evaluate": "dsiam_jax.jobs.evaluate:run",
    "track": "dsiam_jax.jobs.track:run",
    "export": "dsiam_jax.jobs.export:run",
    "import_torch": "dsiam_jax.jobs.import_torch:run",
    "pipeline": "dsiam_jax.jobs.pipeline:run",
    "ablation": "dsiam_jax.jobs.ablation:run",
    "student_search": "dsiam_jax.jobs.student_search:run",
    "publish": "dsiam_jax.jobs.publish:run",
    "tune": "dsiam_jax.jobs.tune:run",
}


# Modes whose job trains (their batch decides the CPU devices: `parallel.configure_cpu_devices`).
TRAINING_MODES = ("train", "distill", "pipeline", "ablation", "student_search")


def training_batch_per_process(config: ml_collections.ConfigDict) -> int:
    """Pairs per training step of each process of the job (1 for a job that does not
    train)."""
    if config.mode not in TRAINING_MODES:
        return 1
    batch = int(config.train.batch_size)
    if config.mode == "pipeline":  # its preset sets the stages' batch
        from dsiam_jax.jobs import pipeline

        batch = int(pipeline.resolved_settings(config)["batch_size"])
    processes = int((config.get("distributed") or {}).get("num_processes", 0))
    return batch // processes if processes > 0 else batch


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
    reads its `sweep()` function from there). On a host without accelerators the
    cores are first split into devices (`distributed.cpu_devices`).
    """
    if config.mode in MODES:  # before any JAX operation (resolve imports the job)
        requested = int((config.get("distributed") or {}).get("cpu_devices", 0))
        parallel.configure_cpu_devices(requested, training_batch_per_process(config))
    job = resolve(config.mode)
    parallel.initialize_distributed(config)
    path = pathlib.Path(workdir).expanduser().resolve()
    with workdir_lib.open_run(config, path):
        logging.info("mode=%s workdir=%s", config.mode, path)
        if "config_file" in inspect.signature(job).parameters:
            return job(config, str(path), config_file=config_file)
        return job(config, str(path))
