"""Benchmark evaluation: toolkit-convention metrics, result files, reports.

    from dsiam_jax.evaluation import evaluate
    report = evaluate(models, sequences, config.tracker, workdir)

Modules: `metrics` (OTB / GOT-10k / LaSOT conventions), `results_io` (result
files), `tables_plots` (eval_summary.md, eval_sequences.md, success / precision
plots), `sequence_checks` (sequences a tracker cannot start on), `evaluator`
(`evaluate`; mode=evaluate is `dsiam_jax.jobs.evaluate`); the VOT reset protocol:
`vot` (protocol, accuracy, robustness, EAO), `regions` (polygon overlaps),
`vot_evaluator` (`evaluate_vot`, for `eval.protocol=vot`).
"""

from dsiam_jax.evaluation.evaluator import evaluate, evaluate_tracker_results

__all__ = ["evaluate", "evaluate_tracker_results"]
