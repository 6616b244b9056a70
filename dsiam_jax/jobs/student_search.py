"""mode=student_search: picks a student's widths by reinforcement learning (SPEC section 3).

    python -m dsiam_jax.main --config=configs/student_search.py \
        --config.teacher.checkpoint=W1 --workdir=W5

Each iteration the LSTM policy (`dsiam_jax.student_search.policy`) samples
`search.candidates_per_iteration` channel lists; each valid one that meets the size
constraints runs its proxy, two stages under W5/proxies/<widths>/ (`stages.run_stages`):
`distill` (`search.proxy_steps` steps of the student against the frozen teacher, one
student, the teacher-output cache W5/teacher_cache shared by all candidates) and
`eval` (success AUC and whole-step frames/s on `search.val_sequences` validation
sequences, on the runtime `search.runtime`). A channel list seen before costs nothing
(its `result.json`). The policy is then updated with the rewards (`reward.py`).

Writes W5/search.json (teacher, every candidate: channels, params, MB, frames/s, proxy
AUC, reward, wall time; the iterations), W5/student.py (the best candidate, for
`--config.distill.students_from`), reward_plot.png and accuracy_vs_size.png (with the
Pareto front and the uniform-width students of equal size). The policy state is saved
after each iteration (W5/policy.msgpack), so a killed search continues where it was.
Then, unless `search.compare_seeds=0`, the paper's ablation (g) (`search_comparison`):
the best candidate and the uniform student of its size distilled alike over seeds and
evaluated on a test split, in W5/report.md and W5/comparison.json.
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import ml_collections
import numpy as np
from absl import logging

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import search_comparison
from dsiam_jax.jobs.search_stages import RUNTIMES, proxy_result, setup_stages
from dsiam_jax.progress import ProgressLine
from dsiam_jax.student_search import fragment, plots, space
from dsiam_jax.student_search import reward as reward_lib
from dsiam_jax.student_search.policy import Policy

COMPARE = ("best", "pareto", "off")
POLICY_FILE, STATE_FILE = "policy.msgpack", "search_state.json"


def reward_settings(s: ml_collections.ConfigDict) -> reward_lib.RewardSettings:
    """The speed term and constraints of `config.search` (a latency budget is a target)."""
    target = float(s.target_fps)
    if s.latency_ms:
        target = max(target, 1000.0 / float(s.latency_ms))
    return reward_lib.RewardSettings(
        target_fps=target,
        speed_weight=float(s.speed_weight),
        max_megabytes=float(s.max_megabytes),
        min_compression=float(s.min_compression),
        min_fps=float(s.min_fps),
    )


def _check(config: ml_collections.ConfigDict) -> None:
    s = config.search
    if s.runtime not in RUNTIMES:
        raise ConfigError(f"search.runtime={s.runtime!r}: expected one of {sorted(RUNTIMES)}")
    if s.compare_uniform not in COMPARE:
        raise ConfigError(f"search.compare_uniform={s.compare_uniform!r}: expected {COMPARE}")
    for name in ("iterations", "candidates_per_iteration", "proxy_steps", "val_sequences"):
        if int(s[name]) <= 0:
            raise ConfigError(f"search.{name}={s[name]} must be positive")
    if int(s.compare_seeds) < 0:
        raise ConfigError(f"search.compare_seeds={s.compare_seeds} must be >= 0 (0 = no report)")
    if int(s.compare_seeds) and min(int(s.compare_steps), int(s.compare_sequences)) <= 0:
        raise ConfigError(
            f"search.compare_steps={s.compare_steps}, search.compare_sequences="
            f"{s.compare_sequences}: both must be positive when search.compare_seeds > 0"
        )
    if "test" in str(s.val_split).lower():
        raise ConfigError(f"search.val_split={s.val_split!r}: the search never sees a test split")
    if not config.teacher.checkpoint and not s.teacher_steps:
        raise ConfigError(
            "config.teacher.checkpoint is empty: give a trained teacher "
            "(--config.teacher.checkpoint=W1), or search.teacher_steps > 0 to train one"
        )


def score(
    config: ml_collections.ConfigDict,
    workdir: pathlib.Path,
    setup: dict[str, Any],
    cand: space.Candidate,
    iteration: int,
) -> dict[str, Any]:
    """The search.json record of `cand`: size, proxy numbers and reward."""
    settings = reward_settings(config.search)
    record = {
        "iteration": iteration,
        "channels": list(cand.channels),
        "head_channels": cand.head_channels,
        "ratios": list(cand.ratios),
        "params": cand.params,
        "megabytes": cand.megabytes,
        "compression": cand.compression,
        "auc": None,
        "fps": None,
        "wall_s": 0.0,
        "cached": False,
        "reward": reward_lib.INVALID_REWARD,
        "invalid": cand.invalid_reason,
    }
    if cand.valid:
        record["invalid"] = reward_lib.size_violation(cand.megabytes, cand.compression, settings)
    if record["invalid"]:
        return record
    proxy = proxy_result(config, workdir, setup, cand)
    record.update({k: v for k, v in proxy.items() if k != "failed"})
    if proxy.get("failed"):
        record["invalid"] = proxy["failed"]
        return record
    record["reward"] = reward_lib.reward(
        cand.compression, proxy["auc"], setup["scores"]["success_auc"], settings, proxy["fps"]
    )
    if record["reward"] == reward_lib.INVALID_REWARD:
        record["invalid"] = f"{proxy['fps']:.1f} frames/s < search.min_fps"
    return record


def _save(workdir: pathlib.Path, policy: Policy, state, history: dict[str, Any]) -> None:
    """Policy state and history, each replaced atomically (policy last: it marks the
    iteration as done)."""
    if not parallel.is_main_process():
        return
    for name, data in ((STATE_FILE, json.dumps(history).encode()), (POLICY_FILE, None)):
        tmp = workdir / f"{name}.tmp"
        tmp.write_bytes(data if data is not None else policy.to_bytes(state))
        tmp.replace(workdir / name)


def search_loop(
    config, workdir: pathlib.Path, setup: dict[str, Any], teacher_spec
) -> dict[str, Any] | None:
    """The iterations (resumed from policy.msgpack and search_state.json); None when
    stopped early by `search.exit_after_iterations`."""
    s = config.search
    ratios = space.validate_ratios(s.ratios)
    policy = Policy(
        space.prunable_layers(teacher_spec),
        len(ratios),
        learning_rate=float(s.learning_rate),
        baseline_decay=float(s.baseline_decay),
        entropy_weight=float(s.entropy_weight),
    )
    state, history = policy.init(int(config.seed)), {"iterations": [], "candidates": []}
    if (workdir / POLICY_FILE).is_file():
        state = policy.from_bytes((workdir / POLICY_FILE).read_bytes())
        history = json.loads((workdir / STATE_FILE).read_text())
        done = int(state.iteration)  # a kill between the two saves: drop the newer history
        history = {k: [r for r in v if r["iteration"] < done] for k, v in history.items()}
        logging.info("resuming the search at iteration %d", int(state.iteration))
    done_here, total = 0, int(s.iterations)

    def log_progress(msg: str) -> None:
        logging.info(msg)
        print(msg, flush=True)

    progress = ProgressLine(
        "search", total, "iterations", log_progress, every_s=0, first_done=int(state.iteration)
    )
    while int(state.iteration) < total:
        i, t0 = int(state.iteration), time.time()
        actions = policy.sample(state, int(s.candidates_per_iteration))  # [N, L]
        records = []
        for a in actions:
            cand = space.candidate_from_actions(teacher_spec, a, ratios, int(s.channel_multiple))
            records.append(score(config, workdir, setup, cand, i))
        rewards = np.asarray([r["reward"] for r in records], np.float32)
        state, stats = policy.update(state, actions, rewards)
        history["candidates"] += records
        best = max(history["candidates"], key=lambda r: r["reward"])
        history["iterations"].append(
            {
                "iteration": i,
                "rewards": rewards.tolist(),
                "best_reward": best["reward"],
                "wall_s": time.time() - t0,
                **stats,
            }
        )
        _save(workdir, policy, state, history)
        done_here += 1
        progress.update(
            i + 1,
            f"; mean reward {rewards.mean():.4f}, best so far {best['reward']:.4f} "
            f"({best['channels']})",
        )
        if s.exit_after_iterations and done_here >= int(s.exit_after_iterations):
            logging.info("stopping after %d iterations (search.exit_after_iterations)", done_here)
            return None
    history["greedy_actions"] = policy.greedy(state).tolist()
    return history


def uniform_comparisons(config, workdir, setup, teacher_spec, evaluated) -> list[dict]:
    """The uniform-width students of the size of the best (or every Pareto) candidate."""
    if config.search.compare_uniform == "off" or not evaluated:
        return []
    if config.search.compare_uniform == "best":
        targets = [max(evaluated, key=lambda r: r["reward"])]
    else:
        pts = [(r["megabytes"], r["auc"]) for r in evaluated]
        targets = [evaluated[i] for i in plots.pareto_front(pts)]
    out = []
    for t in targets:
        cand = space.uniform_candidate(
            teacher_spec, t["params"], int(config.search.channel_multiple)
        )
        out.append({**score(config, workdir, setup, cand, -1), "matches": t["channels"]})
    return out


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Runs (or resumes) the search; writes search.json, student.py and the plots."""
    _check(config)
    root = pathlib.Path(workdir)
    setup = setup_stages(config, root)
    teacher_spec = setup["model"].spec
    t = space.candidate_from_widths(teacher_spec, teacher_spec.channels, teacher_spec.head_channels)
    history = search_loop(config, root, setup, teacher_spec)
    if history is None:  # stopped as if killed; the same command continues
        return {}
    unique = {(*r["channels"], r["head_channels"]): r for r in history["candidates"]}
    evaluated = [r for r in unique.values() if r["auc"] is not None]
    if not evaluated:
        raise ConfigError("no valid candidate met the constraints: loosen search.* limits")
    best = max(evaluated, key=lambda r: (r["reward"], -r["params"]))
    uniform = uniform_comparisons(config, root, setup, teacher_spec, evaluated)
    teacher = {
        "channels": list(teacher_spec.channels),
        "params": t.params,
        "megabytes": t.megabytes,
        "auc": setup["scores"]["success_auc"],
        "fps": setup["scores"]["fps"],
    }
    out = {
        "teacher": teacher,
        "runtime": config.search.runtime,
        "ratios": list(space.validate_ratios(config.search.ratios)),
        "best": best,
        "uniform": uniform,
        **history,
    }
    if parallel.is_main_process():
        (root / "search.json").write_text(json.dumps(out, indent=2) + "\n")
        student = fragment.SearchedStudent(
            teacher_spec.kind, tuple(best["channels"]), best["head_channels"]
        )
        notes = {k: best[k] for k in ("reward", "params", "megabytes", "compression", "auc", "fps")}
        fragment.write_student(root / "student.py", student, notes | {"teacher": teacher})
        plots.plot_rewards(history["iterations"], root / "reward_plot.png")
        plots.plot_accuracy_vs_size(evaluated, uniform, teacher, root / "accuracy_vs_size.png")
        msg = f"best student {best['channels']} reward {best['reward']:.4f}"
        msg += f"; wrote {root / 'student.py'}"
        logging.info(msg)
        print(msg, flush=True)
    # the paper's ablation (g): the best candidate against its uniform twin, on a test split
    searched = space.candidate_from_widths(teacher_spec, best["channels"], best["head_channels"])
    comparison = search_comparison.run_comparison(config, root, setup, searched)
    if comparison is not None and parallel.is_main_process():
        out["comparison"] = comparison
        (root / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
        path = search_comparison.write_report(root, comparison, out)
        logging.info("wrote %s", path)
        print(f"wrote {path}: {search_comparison.verdict(comparison['difference'])}")
    return out
