"""The paper's ablation (g): the searched student against the uniformly shrunk one.

After a search, the best candidate and the uniform-width student of the same size
(`space.uniform_candidate`) are distilled with the same recipe (`search_stages.
distill_overrides`: `config.distill`, one student per run, the search's teacher-output
cache) for `search.compare_steps` steps, once per seed of `search.compare_seeds`, and
evaluated with the teacher on `search.compare_sequences` sequences of a test split
(`config.eval.root` with its layout and split, or the synthetic test split written
under WORKDIR/compare/test_data). The search never sees this split; only the report
does. All stages live under WORKDIR/compare/ and resume like the search.

Writes WORKDIR/comparison.json and WORKDIR/report.md: success AUC (mean +- standard
deviation over seeds, and per seed), the difference searched - uniform paired by seed
and sequence, sizes, compression and whole-step frames/s.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from typing import Any

import ml_collections

from dsiam_jax.jobs import paired_stats, search_stages
from dsiam_jax.jobs.stages import Stage, run_stages, synthetic_split
from dsiam_jax.student_search import space

ROLES = ("searched", "uniform")
COMPARE_FOLDER = "compare"


def test_split(config: ml_collections.ConfigDict) -> tuple[list[Stage], dict[str, Any]]:
    """The stages that write the test split (none for `config.eval.root`) and the
    evaluation overrides that read it."""
    s = config.search
    common = {
        "eval.max_sequences": int(s.compare_sequences),
        "eval.network_repeats": 0,
        "eval.plots": False,
        "backend": search_stages.RUNTIMES[s.runtime],
    }
    if config.eval.root:
        split = {
            "eval.layout": config.eval.layout,
            "eval.root": config.eval.root,
            "eval.split": config.eval.split,
        }
        return [], {**split, **common}
    stage, split = synthetic_split(
        config, "test", int(s.compare_sequences), "test_data", "synthetic test split"
    )
    return [stage], {**split, **common}


def make_stages(
    config: ml_collections.ConfigDict,
    workdir: pathlib.Path,
    setup: dict[str, Any],
    students: Mapping[str, space.Candidate],
) -> list[Stage]:
    """Test split, teacher evaluation, then per seed and student: distill and evaluate."""
    s = config.search
    stages, evaluate = test_split(config)
    stages.append(Stage("teacher_eval", "evaluate", {**evaluate, "checkpoint": setup["path"]}))
    steps = int(s.compare_steps)
    for k in range(int(s.compare_seeds)):
        seed = int(config.seed) + k
        for role, cand in students.items():
            name = f"{role}_seed{seed}"
            distill = search_stages.distill_overrides(
                config, workdir, setup, cand.channels, cand.head_channels, steps
            )
            what = f"{role} student {cand.key}, seed {seed}, {steps} steps"
            stages.append(Stage(name, "distill", {**distill, "seed": seed}, what))
            checkpoint = {"checkpoint": lambda d, n=name: d[n]}
            stages.append(Stage(f"{name}_eval", "evaluate", {**evaluate, **checkpoint}))
    return stages


def _scores(stage_dir: pathlib.Path) -> dict[str, Any]:
    """The one tracker of an evaluation stage's eval.json."""
    trackers = json.loads((stage_dir / "eval.json").read_text())["trackers"]
    return next(iter(trackers.values()))


def paired_by_sequence(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, float, int]:
    """Mean over the sequences both scored of a - b in success AUC, its standard error, n
    (`a`, `b`: one tracker's scores from eval.json)."""
    return paired_stats.paired_difference([a["sequences"]], b["sequences"])


def summarize(
    root: pathlib.Path,
    config: ml_collections.ConfigDict,
    students: Mapping[str, space.Candidate],
) -> dict[str, Any]:
    """The comparison's numbers from the finished stages (comparison.json)."""
    folder = root / COMPARE_FOLDER
    seeds = [int(config.seed) + k for k in range(int(config.search.compare_seeds))]
    out: dict[str, Any] = {"seeds": seeds, "steps": int(config.search.compare_steps)}
    teacher = _scores(folder / "teacher_eval")
    out["teacher"] = {"success_auc": teacher["success_auc"], "fps": teacher["fps"]}
    per_seed: dict[str, dict[int, Any]] = {}
    for role, cand in students.items():
        scores = {seed: _scores(folder / f"{role}_seed{seed}_eval") for seed in seeds}
        per_seed[role] = scores
        aucs = [scores[seed]["success_auc"] for seed in seeds]
        out[role] = {
            "channels": list(cand.channels),
            "head_channels": cand.head_channels,
            "params": cand.params,
            "megabytes": cand.megabytes,
            "compression": cand.compression,
            "success_auc": paired_stats.mean_std(aucs),
            "precision_20": paired_stats.mean_std([scores[seed]["precision_20"] for seed in seeds]),
            "fps": paired_stats.mean_std([scores[seed]["fps"] for seed in seeds]),
            "per_seed_auc": dict(zip(seeds, aucs, strict=True)),
        }
    paired = {
        seed: paired_by_sequence(per_seed["searched"][seed], per_seed["uniform"][seed])
        for seed in seeds
    }
    diffs = [paired[seed][0] for seed in seeds]
    mean, std = paired_stats.mean_std(diffs)
    if len(seeds) > 1:
        se = std / len(seeds) ** 0.5
        basis = f"standard error over {len(seeds)} seeds"
    else:
        se = paired[seeds[0]][1]
        basis = f"one seed: standard error over {paired[seeds[0]][2]} paired sequences"
    out["difference"] = {
        "mean": mean,
        "standard_error": se,
        "basis": basis,
        "per_seed": {
            seed: {"mean": m, "se_sequences": e, "n": n} for seed, (m, e, n) in paired.items()
        },
    }
    return out


def verdict(diff: Mapping[str, Any]) -> str:
    """One sentence on searched - uniform."""
    mean, se = diff["mean"], diff["standard_error"]
    text = f"searched - uniform = {mean:+.3f} success AUC ({diff['basis']}: {se:.3f})"
    beyond = paired_stats.beyond_two_se(mean, se)
    if beyond is None:
        return text + "; too few samples to judge the noise."
    if beyond:
        better = "better" if mean > 0 else "worse"
        return text + f": the searched student tracks **{better}**, beyond twice the error."
    return text + ": **not distinguishable** from the uniform student (within twice the error)."


def write_report(root: pathlib.Path, summary: Mapping[str, Any], search: Mapping[str, Any]) -> str:
    """report.md from `summary` (and the search's teacher and runtime)."""
    fmt = lambda ms: f"{ms[0]:.3f} ± {ms[1]:.3f}"  # noqa: E731
    t = summary["teacher"]
    lines = [
        "# Searched student against the uniformly shrunk student (paper ablation g)",
        "",
        f"Teacher {search['teacher']['channels']} ({search['teacher']['params']:,} parameters): "
        f"test success AUC {t['success_auc']:.3f}, {t['fps']:.1f} frames/s on "
        f"`{search['runtime']}`. Both students distilled with the same recipe for "
        f"{summary['steps']} steps, seeds {summary['seeds']}; evaluated on the test split "
        "(never seen by the search). Cells: mean ± standard deviation over seeds.",
        "",
        "| student | channels | params | MB | compression | success AUC | precision@20 | "
        "frames/s | AUC per seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for role in ROLES:
        r = summary[role]
        channels = "-".join(map(str, r["channels"]))
        if r["head_channels"]:
            channels += f" (head {r['head_channels']})"
        per_seed = ", ".join(f"{v:.3f}" for v in r["per_seed_auc"].values())
        lines.append(
            f"| {role} | {channels} | {r['params']:,} | {r['megabytes']:.2f} | "
            f"{1 / (1 - r['compression']):.1f}x | {fmt(r['success_auc'])} | "
            f"{fmt(r['precision_20'])} | {r['fps'][0]:.1f} | {per_seed} |"
        )
    gap = t["success_auc"] - summary["searched"]["success_auc"][0]
    lines += [
        "",
        f"- {verdict(summary['difference'])}",
        f"- Gap of the searched student to its teacher: {gap:+.3f} success AUC.",
        "- Per seed, paired over test sequences: "
        + "; ".join(
            f"seed {s}: {d['mean']:+.3f} (SE {d['se_sequences']:.3f}, {d['n']} sequences)"
            for s, d in summary["difference"]["per_seed"].items()
        )
        + ".",
        "",
        "Frames/s are whole tracking steps measured while the evaluation ran; compare "
        "them only within this table.",
        "",
    ]
    path = root / "report.md"
    path.write_text("\n".join(lines))
    return str(path)


def run_comparison(
    config: ml_collections.ConfigDict,
    root: pathlib.Path,
    setup: dict[str, Any],
    best: space.Candidate,
) -> dict[str, Any] | None:
    """Runs (or resumes) the comparison of `best` with its uniform twin; None when
    `search.compare_seeds` is 0."""
    if int(config.search.compare_seeds) <= 0:
        return None
    teacher_spec = setup["model"].spec
    uniform = space.uniform_candidate(
        teacher_spec, best.params, int(config.search.channel_multiple)
    )
    students = {"searched": best, "uniform": uniform}
    stages = make_stages(config, root, setup, students)
    run_stages(search_stages.stage_base(config), root / COMPARE_FOLDER, stages)
    return summarize(root, config, students)
