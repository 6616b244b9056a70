"""Benchmark evaluation: toolkit-convention metrics, result files, reports.

    from dsiam_jax.evaluation import evaluate
    report = evaluate(models, sequences, config.tracker, workdir)

Modules: `metrics` (OTB / GOT-10k / LaSOT conventions), `results_io` (result
files), `report` (plots and tables), `benchmark_run` (evaluate, mode=evaluate).
"""

from dsiam_jax.evaluation.benchmark_run import evaluate, evaluate_tracker_results

__all__ = ["evaluate", "evaluate_tracker_results"]
