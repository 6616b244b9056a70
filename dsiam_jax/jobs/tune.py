"""mode=tune: search a tracker's inference settings on a validation split (Optuna, TPE).

    python -m dsiam_jax.main --config=configs/tune.py --config.checkpoint=W2 \
        --config.eval.layout=got10k --config.eval.root=/data/GOT-10k \
        --config.eval.split=val --config.tune.num_trials=50 --workdir=W5

Searches the settings of `dsiam_jax.tracking.tunable.TUNABLE_SETTINGS` (SiamFC:
window_influence, scale_penalty, scale_lr; SiamRPN: penalty_k, window_influence, lr)
within the ranges of `config.tune.<kind>` on the sequences of `config.eval.split`,
maximising the success AUC (`config.eval.convention`) or, with
`config.eval.protocol=vot`, the EAO. The first trial is the configured
`config.tracker` setting (the baseline). The tracker is compiled once: the settings
enter its compiled step as traced values (`TunableTracker`), so a trial only tracks.

The study lives in `W5/tune.db` (SQLite): a killed search resumes, and a rerun with
a larger `tune.num_trials` continues the same study up to that many finished trials.
Writes:
- `W5/tune.json`: every trial (number, params, value, seconds, state), the best one,
  trials per minute of this run, and the test-split scores,
- `W5/best_tracker.json`: the best setting, taken by mode=evaluate / mode=track with
  `--config.tracker_from=W5/best_tracker.json` (or as the listed `overrides`),
- `W5/tune_plot.png`: the objective over trials with the best so far,
- `W5/test/`: mode=evaluate's outputs for the best setting on `config.eval.test_split`,
  evaluated once after the search and never used by it ('' = skipped).
The validation split may not be a test split (`config.eval.split=test` is refused).
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import ml_collections
import numpy as np

from dsiam_jax.checkpoints import load_many
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.evaluation import metrics as metrics_lib
from dsiam_jax.evaluation import vot as vot_lib
from dsiam_jax.evaluation.sequence_checks import initial_box_problem
from dsiam_jax.evaluation.vot_evaluator import sequence_regions
from dsiam_jax.jobs.evaluate import PROTOCOLS, eao_interval, eval_sequences, score
from dsiam_jax.tracking.batched import track_batched
from dsiam_jax.tracking.network import resolve_backend
from dsiam_jax.tracking.runner import StepTracker, run_sequence
from dsiam_jax.tracking.tracker import build_tracker
from dsiam_jax.tracking.tunable import TUNABLE_SETTINGS, TunableTracker, tuned_tracker_config

STUDY_NAME = "tune"


def search_space(config: ml_collections.ConfigDict, kind: str) -> dict[str, tuple[float, float]]:
    """`{setting: (low, high)}` from `config.tune.<kind>` (every tunable setting of `kind`)."""
    section = config.tune.get(kind, {})
    space = {}
    for name in TUNABLE_SETTINGS[kind]:
        if name not in section:
            raise ConfigError(f"config.tune.{kind}.{name}: missing (expected '(low, high)')")
        try:
            low, high = (float(v) for v in section[name])
        except (TypeError, ValueError):
            low, high = math.nan, math.nan
        if not low < high:
            raise ConfigError(
                f"config.tune.{kind}.{name}={section[name]!r}: expected (low, high), low < high"
            )
        space[name] = (low, high)
    return space


def check_splits(config: ml_collections.ConfigDict) -> None:
    """Refuses a test split for tuning (and the same split for tuning and testing)."""
    split = str(config.eval.split).strip()
    test_split = str(config.eval.get("test_split", "")).strip()
    if split.lower() == "test" or (test_split and split == test_split):
        raise ConfigError(
            f"config.eval.split={split!r}: tuning on the test split would leak it into the "
            "result; tune on a validation split (e.g. --config.eval.split=val) and leave "
            "the test split to config.eval.test_split"
        )


def pick_model(models: Mapping[str, Any], name: str) -> tuple[str, Any]:
    """The model to tune: `config.tune.model`, or the only one."""
    if name:
        if name not in models:
            raise ConfigError(f"config.tune.model={name!r}: expected one of {sorted(models)}")
        return name, models[name]
    if len(models) != 1:
        raise ConfigError(
            f"config.checkpoint holds {len(models)} models {sorted(models)}: pick the one to "
            "tune with --config.tune.model=NAME"
        )
    return next(iter(models.items()))


def cached(sequences: list, budget_mb: float) -> list:
    """The sequences with their frames decoded once and kept in memory, when all of them
    fit in `budget_mb` (estimated from frame 1 of each); else the sequences as they are."""
    total = sum(len(s) * s.load_frame(0).nbytes for s in sequences) / 2**20
    if total > budget_mb:
        return sequences
    out = []
    for seq in sequences:
        frames = [seq.load_frame(i) for i in range(len(seq))]
        out.append(dataclasses.replace(seq, loader=frames.__getitem__))
    return out


class Objective:
    """The validation score of a tracker setting: success AUC (protocol 'ope') or EAO ('vot')."""

    def __init__(self, tracker: TunableTracker, sequences: list, config: ml_collections.ConfigDict):
        e = config.eval
        self.tracker = tracker
        self.sequences = sequences
        self.protocol = e.get("protocol", "ope")
        self.convention = e.get("convention", "got10k")
        self.batched, self.batch_size, self.chunk = e.batched, e.batch_size, e.chunk
        self.batch_impl = e.batch_impl
        self.interval = eao_interval(e.get("eao_interval", ""))
        self.metric = "eao" if self.protocol == "vot" else "success_auc"

    def __call__(self, settings: Mapping[str, float]) -> float:
        """Tracks every validation sequence with `settings`; returns the score."""
        self.tracker.set_settings(settings)
        if self.protocol == "vot":
            step = StepTracker(self.tracker)
            runs, regions = {}, {}
            for seq in self.sequences:
                regions[seq.name] = sequence_regions(seq)
                runs[seq.name] = vot_lib.run_supervised(
                    step, seq.load_frame, seq.boxes, regions[seq.name]
                )
            return float(vot_lib.vot_scores(runs, regions, self.interval)["eao"])
        if self.batched:
            results = track_batched(
                self.tracker, self.sequences, None, self.batch_size, self.chunk, self.batch_impl
            )
        else:
            results = [run_sequence(self.tracker, seq) for seq in self.sequences]
        per_seq = [
            metrics_lib.sequence_metrics(
                r.boxes, s.boxes, s.visible, r.image_size, self.convention, s.dataset
            )
            for s, r in zip(self.sequences, results)
        ]
        return float(metrics_lib.aggregate(per_seq, self.convention)["success_auc"])


def open_study(workdir: pathlib.Path, seed: int, identity: dict, startup_trials: int = 10):
    """The study in `workdir/tune.db` (created, or loaded to resume), its storage, and the
    number of trials it already holds. Trials left running by a killed run become FAIL.
    The TPE sampler draws `startup_trials` at random before it models the results."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / 'tune.db'}")
    probe = optuna.create_study(
        study_name=STUDY_NAME, storage=storage, direction="maximize", load_if_exists=True
    )
    held = probe.get_trials(deepcopy=False)
    saved = probe.user_attrs.get("identity")
    if saved is None:
        for key, value in identity.items():
            probe.set_user_attr(key, value)
        probe.set_user_attr("identity", identity)
    elif saved != identity:
        changed = sorted(k for k in identity if saved.get(k) != identity[k])
        raise ConfigError(
            f"{workdir / 'tune.db'} holds a search with other {changed} "
            f"({ {k: saved.get(k) for k in changed} }): use another --workdir"
        )
    study_id = storage.get_study_id_from_name(STUDY_NAME)
    for t in held:
        if t.state == optuna.trial.TrialState.RUNNING:  # its run was killed
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
    # Seeded by the trials already held, so a resumed run does not redraw the same points.
    sampler = optuna.samplers.TPESampler(seed=seed + len(held), n_startup_trials=startup_trials)
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage, sampler=sampler)
    return study, len(held)


def trial_records(study) -> list[dict]:
    """Every trial of `study`: number, state, params, value, seconds, baseline flag."""
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "params": t.params,
            "value": t.value,
            "seconds": t.user_attrs.get("seconds"),
            "baseline": bool(t.user_attrs.get("baseline", False)),
        }
        for t in study.get_trials(deepcopy=False)
    ]


def plot_trials(trials: list[dict], metric: str, path: pathlib.Path) -> None:
    """The objective of each finished trial and the best so far, over trial numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [t for t in trials if t["state"] == "COMPLETE"]
    numbers = [t["number"] for t in done]
    values = np.asarray([t["value"] for t in done], np.float64)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(numbers, values, "o", label="trial")
    if len(values):
        ax.plot(numbers, np.maximum.accumulate(values), "-", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {metric}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate_on_test(
    config: ml_collections.ConfigDict,
    name: str,
    model: Any,
    tracker_config: dict,
    out: pathlib.Path,
) -> dict | None:
    """mode=evaluate's scores of the best setting on `config.eval.test_split` (None: '')."""
    test_split = str(config.eval.get("test_split", "")).strip()
    if not test_split:
        return None
    sequences = eval_sequences(config, test_split)
    report = score(config, {name: model}, sequences, tracker_config, out, 0, config.eval.plots)
    if config.eval.get("protocol", "ope") == "vot":
        keys = ("eao", "accuracy", "robustness", "failures")
    else:
        keys = ("success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75")
    scores = report["trackers"].get(name, {})
    return {
        "split": test_split,
        "sequences": len(sequences),
        **{k: scores.get(k) for k in keys},
        "eval_json": str(out / "eval.json"),
    }


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Runs (or resumes) the search; writes tune.json, best_tracker.json, the plot and
    the test-split evaluation; returns tune.json."""
    import optuna

    t = config.tune
    e = config.eval
    if t.num_trials < 1:
        raise ConfigError(f"config.tune.num_trials={t.num_trials}: must be >= 1")
    if e.get("protocol", "ope") not in PROTOCOLS:
        raise ConfigError(f"config.eval.protocol={e.protocol!r}: expected one of {PROTOCOLS}")
    if e.get("protocol", "ope") == "vot" and e.batched:
        raise ConfigError(
            "config.eval.batched=True with config.eval.protocol=vot: the reset protocol "
            "re-initialises each sequence on its own; set config.eval.batched=False"
        )
    check_splits(config)
    metrics_lib.aggregate([], e.get("convention", "got10k"))  # checks the convention
    if jax.process_count() > 1:
        raise ConfigError("mode=tune runs in one process (its study is one SQLite file)")
    work = pathlib.Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    name, model = pick_model(load_many(config.checkpoint), t.model)
    kind = model.spec.kind
    space = search_space(config, kind)
    base_config = tuned_tracker_config(config.tracker, config.get("tracker_from", ""))
    backend = resolve_backend(config.backend, jittable=True)  # settings are traced
    tracker = TunableTracker(build_tracker(model, base_config, backend))
    baseline = {k: float(getattr(tracker.base_config, k)) for k in space}
    sequences = [s for s in eval_sequences(config, e.split) if initial_box_problem(s) is None]
    if not sequences:
        raise UserError(f"no sequence of split {e.split!r} has a first box to start from")
    sequences = cached(sequences, t.cache_frames_mb)
    objective = Objective(tracker, sequences, config)
    identity = {
        "model": name,
        "kind": kind,
        "metric": objective.metric,
        "split": str(e.split),
        "space": {k: list(v) for k, v in space.items()},
    }
    study, held = open_study(work, int(t.seed), identity, int(t.get("startup_trials", 10)))
    if held == 0:  # the configured setting first: what the search has to beat
        study.enqueue_trial(baseline, user_attrs={"baseline": True})

    def trial_fn(trial: optuna.Trial) -> float:
        settings = {k: trial.suggest_float(k, low, high) for k, (low, high) in space.items()}
        t0 = time.perf_counter()
        value = objective(settings)
        trial.set_user_attr("seconds", time.perf_counter() - t0)
        print(f"trial {trial.number}: {objective.metric} {value:.4f}  {settings}")
        return value

    done = sum(tr.state == optuna.trial.TrialState.COMPLETE for tr in study.get_trials())
    todo = max(int(t.num_trials) - done, 0)
    print(
        f"tuning {name} ({kind}) on {len(sequences)} sequences of split {e.split!r}: "
        f"{done} trials held, {todo} to run"
    )
    t0 = time.perf_counter()
    if todo:
        with warnings.catch_warnings():  # the baseline may lie outside the search ranges
            warnings.filterwarnings("ignore", message="Fixed parameter .* is out of range")
            study.optimize(trial_fn, n_trials=todo)
    wall = time.perf_counter() - t0
    trials = trial_records(study)
    complete = [tr for tr in trials if tr["state"] == "COMPLETE"]
    if not complete:
        raise UserError(f"no trial finished (see {work / 'tune.db'})")
    best = max(complete, key=lambda tr: tr["value"])
    this_run = [tr for tr in complete if tr["number"] >= held and tr["seconds"] is not None]
    best_section = {kind: dict(best["params"])}
    tuned = tuned_tracker_config(base_config, best_section)
    best_file = {
        "model": name,
        "kind": kind,
        "metric": objective.metric,
        "validation_split": str(e.split),
        "validation_value": best["value"],
        "trial": best["number"],
        "tracker": best_section,
        "overrides": [f"--config.tracker.{kind}.{k}={v:.6g}" for k, v in best["params"].items()],
    }
    (work / "best_tracker.json").write_text(json.dumps(best_file, indent=2) + "\n")
    report = {
        "model": name,
        "kind": kind,
        "metric": objective.metric,
        "validation_split": str(e.split),
        "validation_sequences": len(sequences),
        "space": identity["space"],
        "baseline": baseline,
        "best": best,
        "trials": trials,
        "this_run": {
            "trials": len(this_run),
            "seconds": wall,
            # the first trial of a run also compiles the tracker
            "first_trial_seconds": this_run[0]["seconds"] if this_run else None,
            "trials_per_minute": 60.0 * len(this_run) / wall if this_run and wall > 0 else None,
            "trials_per_minute_compiled": (
                60.0 * (len(this_run) - 1) / sum(tr["seconds"] for tr in this_run[1:])
                if len(this_run) > 1
                else None
            ),
        },
        "test": None,
    }
    plot_trials(trials, objective.metric, work / "tune_plot.png")
    base_values = [tr["value"] for tr in complete if tr["baseline"]]
    report["baseline_value"] = base_values[0] if base_values else None
    print(
        f"best trial {best['number']}: validation {objective.metric} {best['value']:.4f} "
        f"(baseline {report['baseline_value']})  {best['params']}"
    )
    report["test"] = evaluate_on_test(config, name, model, tuned, work / "test")
    (work / "tune.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {work / 'tune.json'} and {work / 'best_tracker.json'}")
    return report
