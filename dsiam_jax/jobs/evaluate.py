"""mode=evaluate: the models of `config.checkpoint` on the sequences of `config.eval`.

    python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=W2 \
        --config.eval.layout=got10k --config.eval.root=/data/GOT-10k/val --workdir=W3

Reads the sequences (`data_pipelines.sequences`, no TensorFlow) and runs
`dsiam_jax.evaluation.evaluate` (its docstring lists what is written), or with
`--config.eval.protocol=vot` the VOT reset protocol
(`dsiam_jax.evaluation.vot_evaluator.evaluate_vot`: EAO, accuracy, robustness).
`--config.eval.package=got10k|trackingnet` also zips each tracker's results in the
layout that test server takes (W3/<tracker>_<server>.zip; `evaluation.server_zip`);
`--config.tracker_from=W5/best_tracker.json` takes the settings found by mode=tune.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import ml_collections

from data_pipelines.sequences import read_sequences
from dsiam_jax import parallel
from dsiam_jax.checkpoints import load_many
from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation import tables_plots
from dsiam_jax.evaluation.evaluator import evaluate
from dsiam_jax.evaluation.metrics import CONVENTIONS
from dsiam_jax.evaluation.results_io import tracker_dir
from dsiam_jax.evaluation.server_zip import SERVERS, write_server_zip
from dsiam_jax.evaluation.vot_evaluator import evaluate_vot, summary_table
from dsiam_jax.tracking.tunable import tuned_tracker_config
from dsiam_jax.workdir import safe_name

PROTOCOLS = ("ope", "vot")


def eao_interval(text: str) -> tuple[int, int] | None:
    """`config.eval.eao_interval` 'low,high' -> (low, high); '' -> None (from the data)."""
    if not str(text).strip():
        return None
    try:
        low, high = (int(v) for v in str(text).split(","))
    except ValueError:
        low = high = -1
    if not 1 <= low <= high:
        raise ConfigError(
            f"config.eval.eao_interval={text!r}: expected 'low,high' with 1 <= low <= high "
            "(e.g. '100,356'), or '' to derive it from the sequence lengths"
        )
    return low, high


def eval_sequences(config: ml_collections.ConfigDict, split: str) -> list:
    """The sequences of `split` in `config.eval.layout` / `root` (at most `max_sequences`).

    Layout 'synthetic' generates them in memory from `config.data.synthetic` (split ''
    = 'val'; its seed picks the scenes).
    """
    e = config.eval
    if e.layout == "synthetic":
        options = dict(config.data.get("synthetic", {}))
        if e.max_sequences:
            options["num_sequences"] = e.max_sequences
        sequences = read_sequences("synthetic", "", split or "val", **options)
    else:
        sequences = read_sequences(e.layout, e.root, split)
    return sequences[: e.max_sequences] if e.max_sequences else sequences


def score(
    config: ml_collections.ConfigDict,
    models: Mapping[str, Any],
    sequences: list,
    tracker_config: Mapping[str, Any],
    out: str | pathlib.Path,
    network_repeats: int,
    plots: bool,
) -> dict:
    """Tracks `sequences` with every model under `config.eval`'s protocol (ope: `evaluate`,
    vot: `evaluate_vot`) and convention, writing results and eval.json under `out`."""
    e = config.eval
    if e.get("protocol", "ope") == "vot":
        interval = eao_interval(e.get("eao_interval", ""))
        return evaluate_vot(
            models, sequences, tracker_config, out, backend=config.backend, interval=interval
        )
    return evaluate(
        models,
        sequences,
        tracker_config,
        out,
        backend=config.backend,
        batched=e.batched,
        batch_size=e.batch_size,
        chunk=e.chunk,
        batch_impl=e.batch_impl,
        network_repeats=network_repeats,
        plots=plots,
        convention=e.get("convention", "got10k"),
    )


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Loads `config.checkpoint` models and `config.eval` sequences; returns eval.json."""
    e = config.eval
    if e.max_sequences < 0:
        raise ConfigError(f"config.eval.max_sequences={e.max_sequences}: must be >= 0 (0 = all)")
    protocol, convention = e.get("protocol", "ope"), e.get("convention", "got10k")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"config.eval.protocol={protocol!r}: expected one of {PROTOCOLS}")
    if convention not in CONVENTIONS:
        raise ConfigError(
            f"config.eval.convention={convention!r}: expected one of {tuple(CONVENTIONS)}"
        )
    eao_interval(e.get("eao_interval", ""))  # a bad interval fails before any tracking
    package = e.get("package", "")
    if package and (package not in SERVERS or protocol == "vot"):
        raise ConfigError(
            f"config.eval.package={package!r}: expected '' or one of {SERVERS} "
            "(with config.eval.protocol=ope)"
        )
    if protocol == "vot" and e.batched:
        raise ConfigError(
            "config.eval.batched=True with config.eval.protocol=vot: the reset protocol "
            "re-initialises each sequence on its own; set config.eval.batched=False"
        )
    tracker_config = tuned_tracker_config(config.tracker, config.get("tracker_from", ""))
    models = load_many(config.checkpoint)
    sequences = eval_sequences(config, e.split)
    plots = e.plots and parallel.is_main_process()
    report = score(config, models, sequences, tracker_config, workdir, e.network_repeats, plots)
    if protocol == "vot":
        print(summary_table(report), end="")
        print(f"wrote {pathlib.Path(workdir) / 'eval.json'}")
        return report
    not_scored = {**report["skipped"], **report["failed"]}
    print(tables_plots.summary_table(report["trackers"], not_scored), end="")
    print(f"wrote {pathlib.Path(workdir) / 'eval.json'}")
    if package:
        for name, scores in report["trackers"].items():
            out = pathlib.Path(workdir) / f"{safe_name(name)}_{package}.zip"
            write_server_zip(package, tracker_dir(workdir, name), list(scores["sequences"]), out)
            print(f"wrote {out} ({package} test server layout)")
    return report
