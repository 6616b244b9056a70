"""Training: teachers on ground truth, students by distillation and mutual learning.

Modules, from the bottom up:
- `settings`: the loss / distillation / optimiser settings (frozen dataclasses built
  from the `loss`, `distill` and `train` config sections; defaults = SPEC).
- `targets`: SiamFC label maps and SiamRPN anchor targets from the search-crop box.
- `losses`: every loss term as a pure per-example function.
- `objective`: the terms of each trained model combined (GT, soft, bound, hint, share).
- `optim`: SGD with momentum, weight decay, log-linear decay, warm-up, clipping.
- `state`: what is trained (`TrainPlan`) and the train state pytree.
- `step`: one data-parallel train step (`jax.shard_map` under `jax.jit`).
- `toy_pairs`: on-device synthetic pairs (benchmarks, tests; needs no TensorFlow).
- `metrics_log`: clu metric writers, `metrics.jsonl`, progress lines.
- `trainer`: the loop (checkpoints, resume, logging) over the batches it is given; the
  `train` / `distill` jobs that build its plan and input are `dsiam_jax.jobs.train`.

Nothing here imports TensorFlow at module level (only `data_pipelines` does).
"""
