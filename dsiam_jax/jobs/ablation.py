"""mode=ablation: the paper's ablations as a resumable sweep (configs/ablation.py).

The config file defines `sweep(config) -> list[dict]`, one dict per training run:
`{'row': str, 'seed': int, 'mode': 'train' | 'distill', 'overrides': {dotted: value}}`.
The job trains one teacher (or uses `ablation.teacher_checkpoint`), writes the
evaluation split once, then trains and evaluates every run, each in its own folder
(`<row>_seed<k>/`, `<row>_seed<k>_eval/`). A killed sweep resumes where it stopped.
Distillation runs share one teacher-output cache (`pipeline.shared_teacher_cache`):
the first run on a seed's examples computes the teacher's outputs, the other rows of
that seed read them.
`ablation.md` gives, for every row, the mean and standard deviation across seeds.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ml_collections

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import paired_stats, pipeline
from dsiam_jax.jobs.run_report import METRICS
from dsiam_jax.jobs.stages import Stage, run_stages, stage_dirs

Run = dict[str, Any]


def load_sweep(config_file: str | None) -> Callable[[ml_collections.ConfigDict], list[Run]]:
    """The `sweep` function of the config file that started the job."""
    if not config_file:
        raise ConfigError("mode=ablation needs a config file that defines sweep(config)")
    path = pathlib.Path(config_file.split(":", 1)[0])
    spec = importlib.util.spec_from_file_location("ablation_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "sweep"):
        raise ConfigError(f"{path} defines no sweep(config) function")
    return module.sweep


def run_name(run: Run) -> str:
    return f"{run['row']}_seed{run['seed']}"


def make_stages(config: ml_collections.ConfigDict, runs: Sequence[Run]) -> list[Stage]:
    """Teacher + evaluation data, then a train and an evaluate stage per run."""
    base = pipeline.make_stages(config)
    by_name = {s.name: s for s in base}
    stages = [by_name["data"]]
    teacher = config.ablation.teacher_checkpoint
    if not teacher:
        stages.append(by_name["teacher"])
        teacher = lambda d: d["teacher"]  # noqa: E731
    common = {k: v for k, v in by_name["scratch"].overrides.items() if not k.startswith("model")}
    common.pop("train.model_name", None)
    common.pop("train.model_role", None)
    eval_base = dict(by_name["evaluate"].overrides)
    curve_steps = curve_points(config)
    for run in runs:
        name = run_name(run)
        cache = pipeline.shared_teacher_cache(config) if run["mode"] == "distill" else {}
        overrides = {**common, **cache, "seed": run["seed"], **run["overrides"]}
        if run["mode"] == "distill":
            overrides["teacher.checkpoint"] = teacher
        if curve_steps:
            overrides["train.max_to_keep"] = 0  # the curve points evaluate kept checkpoints
        stages.append(Stage(name, run["mode"], overrides, f"row {run['row']}, seed {run['seed']}"))
        for step in curve_steps:
            stages.append(
                Stage(
                    f"{name}_eval_step{step}",
                    "evaluate",
                    {
                        **eval_base,
                        "checkpoint": lambda d, n=name, k=step: f"{d[n]}/checkpoints/{k}",
                    },
                    f"evaluate {name} at step {step}",
                )
            )
        stages.append(
            Stage(
                f"{name}_eval",
                "evaluate",
                {**eval_base, "checkpoint": lambda d, n=name: d[n]},
                f"evaluate {name}",
            )
        )
    return stages


def curve_points(config: ml_collections.ConfigDict) -> tuple[int, ...]:
    """`ablation.eval_steps`: the student steps (before the last) at which every run is
    also evaluated, for learning curves; each must be a checkpoint step."""
    steps = tuple(int(s) for s in config.ablation.get("eval_steps", ()))
    every = int(config.train.checkpoint_every)
    last = int(pipeline.resolved_settings(config)["student_steps"])
    for s in steps:
        if s <= 0 or s >= last or (every and s % every):
            raise ConfigError(
                f"ablation.eval_steps: {s} must lie in (0, {last}) and be a multiple of "
                f"train.checkpoint_every={every}"
            )
    return tuple(sorted(set(steps)))


def aggregate(runs: Sequence[Run], dirs: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per row: each seed's metrics (mean over the run's models) and mean/std over seeds."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        report = json.loads((pathlib.Path(dirs[f"{run_name(run)}_eval"]) / "eval.json").read_text())
        trackers = report["trackers"].values()
        per_seed = {m: statistics.fmean(t[m] for t in trackers) for m in METRICS}
        per_seed["best_success_auc"] = max(t["success_auc"] for t in trackers)
        row = rows.setdefault(run["row"], {"seeds": {}, "description": run.get("description", "")})
        row["seeds"][run["seed"]] = per_seed
    for row in rows.values():
        for m in (*METRICS, "best_success_auc"):
            row[m] = paired_stats.mean_std([s[m] for s in row["seeds"].values()])
    return rows


def effect(rows: Mapping[str, Any], a: str, b: str) -> str:
    """`a` minus `b` in success AUC, with its standard error and a plain verdict."""
    if a not in rows or b not in rows:
        return f"({a} or {b} not in this sweep)"
    (ma, sa), (mb, sb) = rows[a]["success_auc"], rows[b]["success_auc"]
    na, nb = len(rows[a]["seeds"]), len(rows[b]["seeds"])
    diff = ma - mb
    se = (sa**2 / na + sb**2 / nb) ** 0.5
    beyond = paired_stats.beyond_two_se(diff, se)
    if beyond is None or na < 2 or nb < 2:
        verdict = "a single seed: no spread to judge noise by"
    elif beyond:
        verdict = "larger than twice its standard error: likely a real effect"
    else:
        verdict = "within twice its standard error: not distinguishable from seed noise"
    return f"`{a}` - `{b}` = {diff:+.3f} AUC (standard error {se:.3f}; {verdict})"


def write_report(config, workdir: str, rows: Mapping[str, Any], runs: Sequence[Run]) -> str:
    """ablation.md + ablation.json; returns the markdown path."""
    root = pathlib.Path(workdir)
    seeds = sorted({r["seed"] for r in runs})
    fmt = lambda ms: f"{ms[0]:.3f} ± {ms[1]:.3f}"  # noqa: E731
    lines = [
        "# Ablation",
        "",
        f"Seeds {seeds}; model kind `{config.model.kind}`; sizes from `pipeline.size="
        f"{config.pipeline.size}` (see `config.json`). Every cell is the mean ± standard "
        "deviation across seeds; a multi-student run counts the mean of its students "
        "(`best AUC`: its best student).",
        "",
        "| row | what | success AUC | best AUC | precision@20 | AO |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['description']} | {fmt(row['success_auc'])} | "
            f"{fmt(row['best_success_auc'])} | {fmt(row['precision_20'])} | {fmt(row['ao'])} |"
        )
    lines += [
        "",
        "## What the numbers say",
        "",
        f"- Distillation vs from scratch: {effect(rows, 'soft_bg', 'scratch')}.",
        f"- Background suppression: {effect(rows, 'soft_bg', 'soft')}.",
        f"- Student-student sharing (2 students vs 1): {effect(rows, 'share_2', 'soft_bg')}.",
        f"- A third student: {effect(rows, 'share_3', 'share_2')}.",
    ]
    if "soft_bg_bound" in rows:
        lines.append(f"- Teacher-bounded regression: {effect(rows, 'soft_bg_bound', 'soft_bg')}.")
    lines.append("")
    path = root / "ablation.md"
    path.write_text("\n".join(lines))
    (root / "ablation.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return str(path)


def expand(config: ml_collections.ConfigDict, config_file: str | None) -> list[Run]:
    """The sweep's runs, validated (unique names, known modes)."""
    runs = load_sweep(config_file)(config)
    names = [run_name(r) for r in runs]
    if len(set(names)) != len(names):
        raise ConfigError(f"sweep() returned duplicate runs: {names}")
    for r in runs:
        if r["mode"] not in ("train", "distill"):
            raise ConfigError(f"sweep run {run_name(r)}: mode must be train or distill")
    return runs


def run(config: ml_collections.ConfigDict, workdir: str, config_file: str | None = None):
    """Runs (or resumes) the sweep, then writes ablation.md."""
    runs = expand(config, config_file)
    stages = make_stages(config, runs)
    run_stages(config, workdir, stages)
    if not parallel.is_main_process():
        return {}
    rows = aggregate(runs, stage_dirs(workdir, stages))
    path = write_report(config, workdir, rows, runs)
    print(f"wrote {path}")
    return {"path": path, "rows": rows}
