"""Resumable multi-job runs: a list of stages, each one job in its own sub-workdir.

A stage is a `config.mode` plus dotted-key overrides of a base config. Running a
list of stages again skips the stages already marked done (`DONE.json` in the
stage's folder) and re-enters the unfinished one, whose job resumes by itself
(training picks up its last checkpoint). This is what makes `mode=pipeline` and
`mode=ablation` resumable after a kill.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pathlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ml_collections
from absl import logging

from data_pipelines import synthetic
from dsiam_jax import jobs, parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.workdir import DONE_FILE


@dataclasses.dataclass
class Stage:
    """One job of a multi-job run.

    Attributes:
      name: folder name under the run's workdir (unique within the run).
      mode: the job (`config.mode`).
      overrides: dotted config keys -> values, applied to the base config. A value
        that is a callable receives the `{stage name: stage workdir}` map of the run
        and returns the value (for paths of earlier stages).
      description: one line for progress logs and the report.
    """

    name: str
    mode: str
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""


def synthetic_split(
    config: ml_collections.ConfigDict, split: str, count: int, name: str, description: str
) -> tuple[Stage, dict[str, Any]]:
    """A stage `name` that writes the synthetic `split` as a GOT-10k folder, with at
    least `count` sequences (0: the split's count for `data.synthetic.num_sequences`),
    and the evaluation overrides that read that folder (`eval.root` resolved from the
    run's stage folders)."""
    num = synthetic.num_sequences_for(split, count, config.data.synthetic.num_sequences)
    data = {"data.synthetic.write_splits": (split,), "data.synthetic.num_sequences": num}
    evaluate = {
        "eval.layout": "got10k",
        "eval.root": lambda d: str(pathlib.Path(d[name]) / synthetic.GOT10K_FOLDER / split),
        "eval.split": "",
    }
    return Stage(name, "write_synthetic", data, description), evaluate


def apply_overrides(
    base: ml_collections.ConfigDict, overrides: Mapping[str, Any]
) -> ml_collections.ConfigDict:
    """A copy of `base` with dotted-key overrides; an unknown key is an error naming it."""
    config = copy.deepcopy(base)
    config.unlock()
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = config
        for p in parents:
            if p not in node:
                raise ConfigError(f"override {key!r}: config has no section {p!r}")
            node = node[p]
        if leaf not in node:
            raise ConfigError(f"override {key!r}: config has no field {leaf!r}")
        if isinstance(node[leaf], ml_collections.ConfigDict) and isinstance(value, Mapping):
            for k, v in value.items():
                node[leaf][k] = v
        else:
            node[leaf] = tuple(value) if isinstance(value, list) else value
    config.lock()
    return config


def stage_dirs(workdir: str | pathlib.Path, stages: Sequence[Stage]) -> dict[str, str]:
    """`{stage name: absolute stage workdir}`."""
    root = pathlib.Path(workdir).resolve()
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ConfigError(f"stage names must be unique: {names}")
    return {s.name: str(root / s.name) for s in stages}


def run_folder(dirs: Mapping[str, str]) -> pathlib.Path:
    """The run's workdir (the common parent of its stage folders), from `stage_dirs`."""
    parents = {pathlib.Path(d).parent for d in dirs.values()}
    if len(parents) != 1:
        raise ValueError(f"stage folders in several parents: {sorted(map(str, parents))}")
    return parents.pop()


def is_done(stage_dir: str | pathlib.Path) -> bool:
    return (pathlib.Path(stage_dir) / DONE_FILE).is_file()


def resolve_overrides(overrides: Mapping[str, Any], dirs: Mapping[str, str]) -> dict[str, Any]:
    """`overrides` with each callable value replaced by its value for the stage folders
    `dirs` (see `Stage.overrides`)."""
    return {k: (v(dirs) if callable(v) else v) for k, v in overrides.items()}


def run_stages(
    base: ml_collections.ConfigDict,
    workdir: str | pathlib.Path,
    stages: Sequence[Stage],
    on_stage_done: Callable[[Stage, str, Any], None] | None = None,
) -> dict[str, Any]:
    """Runs the stages in order, skipping finished ones; returns `{name: job result}`.

    Results of skipped stages are `None` (their outputs are on disk).
    """
    dirs = stage_dirs(workdir, stages)
    results: dict[str, Any] = {}
    t_start = time.time()
    for i, stage in enumerate(stages, 1):
        path = dirs[stage.name]
        label = f"[{i}/{len(stages)}] {stage.name} ({stage.mode})"
        if is_done(path):
            logging.info("%s: done already, skipped", label)
            results[stage.name] = None
            continue
        logging.info("%s: %s", label, stage.description or "running")
        config = apply_overrides(
            base, {"mode": stage.mode, **resolve_overrides(stage.overrides, dirs)}
        )
        t0 = time.time()
        results[stage.name] = jobs.run_job(config, path)
        seconds = time.time() - t0
        if parallel.is_main_process():
            record = {"stage": stage.name, "mode": stage.mode, "seconds": seconds}
            (pathlib.Path(path) / DONE_FILE).write_text(json.dumps(record, indent=2) + "\n")
        logging.info(
            "%s: finished in %.0f s (run so far %.0f s)", label, seconds, time.time() - t_start
        )
        if on_stage_done is not None:
            on_stage_done(stage, path, results[stage.name])
    return results


def stage_seconds(stage_dir: str | pathlib.Path) -> float | None:
    """Wall time a finished stage took (from its DONE record)."""
    path = pathlib.Path(stage_dir) / DONE_FILE
    return json.loads(path.read_text())["seconds"] if path.is_file() else None
