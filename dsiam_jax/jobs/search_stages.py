"""The jobs a student search runs: its setup, the candidates' proxies (SPEC section 3).

Every job is a stage (`stages.run_stages`) of a base config, the search's own config
without its `search` section (`stage_base`), so each stage resumes by itself:

- setup (`setup_stages`): the teacher when none is given, the validation split, the
  teacher's validation AUC (the A_t of the reward);
- a candidate's proxy (`proxy_result`), under WORKDIR/proxies/<widths>/: `distill`
  (`search.proxy_steps` steps against the frozen teacher, the teacher-output cache
  WORKDIR/teacher_cache shared by every distillation of the search) and `eval`
  (success AUC and whole-step frames/s on the validation split, on `search.runtime`).
"""

from __future__ import annotations

import copy
import json
import pathlib
import time
from typing import Any

import ml_collections
from absl import logging

from dsiam_jax import checkpoints as ckpt
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs.stages import (
    Stage,
    resolve_overrides,
    run_stages,
    stage_dirs,
    synthetic_split,
)
from dsiam_jax.student_search import space
from dsiam_jax.train.trainer import NonFiniteLossError

RUNTIMES = {"jax": "jax", "onnx": "onnx", "onnx_qdq": "onnx_qdq"}  # search.runtime -> backend
TEACHER_CACHE_FOLDER = "teacher_cache"  # under the search's workdir


def stage_base(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The base config of the search's stages: the search's config without its
    `search` section, which they do not read (a changed search setting then does not
    block resuming a proxy run)."""
    base = copy.deepcopy(config)
    base.unlock()
    del base["search"]
    base.lock()
    return base


def setup_stages(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> dict[str, Any]:
    """Runs (once) the teacher (when none is given), the validation split and the
    teacher's evaluation; returns the teacher path, its model and its proxy numbers."""
    s = config.search
    stages, teacher_path = [], str(config.teacher.checkpoint)
    if not teacher_path:
        n = int(s.teacher_steps)
        overrides = {"train.num_steps": n, "train.checkpoint_every": n}
        overrides |= {"train.model_name": "teacher", "train.model_role": "teacher"}
        stages.append(Stage("teacher", "train", overrides, f"teacher, {n} steps"))
        teacher_path = str(workdir / "teacher")
    if s.val_root:
        val = {"eval.layout": s.val_layout, "eval.root": s.val_root, "eval.split": s.val_split}
    else:  # the synthetic validation split, written once as a GOT-10k folder
        stage, split = synthetic_split(
            config, "val", int(s.val_sequences), "val_data", "synthetic validation split"
        )
        stages.append(stage)
        # resolved now: the proxy runs read it from other run folders
        val = resolve_overrides(split, stage_dirs(workdir, [stage]))
    val |= {
        "eval.max_sequences": int(s.val_sequences),
        "eval.network_repeats": 0,
        "eval.plots": False,
        "backend": RUNTIMES[s.runtime],
    }
    stages.append(Stage("teacher_eval", "evaluate", {**val, "checkpoint": teacher_path}))
    run_stages(stage_base(config), workdir, stages)
    teacher = ckpt.pick_model(
        ckpt.load_models(teacher_path), config.teacher.name, teacher_path, "with teacher.name"
    )
    report = json.loads((workdir / "teacher_eval" / "eval.json").read_text())
    scores = report["trackers"].get(teacher.name) or next(iter(report["trackers"].values()))
    if not scores["success_auc"]:
        raise ConfigError("the teacher's validation AUC is 0: A_s / A_t is undefined")
    return {"path": teacher_path, "model": teacher, "val": val, "scores": scores}


def distill_overrides(
    config: ml_collections.ConfigDict,
    workdir: pathlib.Path,
    setup: dict[str, Any],
    channels: tuple[int, ...],
    head_channels: int,
    steps: int,
) -> dict[str, Any]:
    """One student of these widths distilled from the search's teacher for `steps` steps
    (the recipe of `config.distill`, without sharing: one student per run), saved every
    `train.checkpoint_every` steps and at the end."""
    cache = {}
    if str(config.distill.teacher_cache).strip() == "auto":
        cache = {"distill.teacher_cache": str(workdir / TEACHER_CACHE_FOLDER)}
    return {
        "teacher.checkpoint": setup["path"],
        "model.kind": setup["model"].spec.kind,  # the students' kind is the teacher's
        "model.head": setup["model"].spec.head,
        "distill.students": (tuple(channels),),
        "distill.student_head_channels": int(head_channels),
        "distill.students_from": "",
        "distill.share": False,
        "train.num_steps": int(steps),
        "train.checkpoint_every": max(1, min(int(config.train.checkpoint_every), int(steps))),
        **cache,
    }


def proxy_result(
    config: ml_collections.ConfigDict,
    workdir: pathlib.Path,
    setup: dict[str, Any],
    cand: space.Candidate,
) -> dict[str, Any]:
    """AUC and frames/s of `cand` after its proxy distillation (cached in result.json)."""
    folder = workdir / "proxies" / cand.key
    path = folder / "result.json"
    if path.is_file():
        return {**json.loads(path.read_text()), "cached": True}
    t0 = time.time()
    steps = int(config.search.proxy_steps)
    distill = distill_overrides(config, workdir, setup, cand.channels, cand.head_channels, steps)
    evaluate = {**setup["val"], "checkpoint": str(folder / "distill")}
    try:
        run_stages(
            stage_base(config),
            folder,
            [
                Stage("distill", "distill", distill, f"proxy of {cand.key}"),
                Stage("eval", "evaluate", evaluate, f"validation of {cand.key}"),
            ],
        )
    except NonFiniteLossError as e:  # an untrainable candidate: reward -1, kept as such
        logging.warning("proxy of %s diverged: %s", cand.key, e)
        result = {"auc": None, "fps": None, "failed": f"proxy diverged: {e}"}
    else:
        scores = json.loads((folder / "eval" / "eval.json").read_text())["trackers"]
        (student,) = scores.values()
        result = {"auc": student["success_auc"], "fps": student["fps"], "failed": ""}
    result["wall_s"] = time.time() - t0
    if parallel.is_main_process():
        path.write_text(json.dumps(result, indent=2) + "\n")
    return {**result, "cached": False}
