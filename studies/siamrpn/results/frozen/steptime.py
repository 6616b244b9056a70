"""Section 34's training budgets: one training step of each teacher recipe, timed in turns.

    python -m studies.siamrpn.results.frozen.steptime [--repeats 10]

Section 40 times the recipe with a k x k read-out after the correlation against the same
rows (`--head-kernels 3 --rows siamfc_teacher,rpn_matcher_frozen3,rpn_matcher_frozen3_k3
--out studies/siamrpn/results/head_kernel/steptime.json`).

The SiamFC teacher (configs/siamfc_teacher.py), the zoo's RPN teacher
(configs/siamrpn_matcher.py: its whole backbone trained at 0.1x) and the same with
conv1-3 or conv1-4 fixed (`train.frozen_convs=3`, 4), each a compiled data-parallel step on the
CPU devices the training jobs use, on one fixed synthetic batch of the configs' global
batch (`benchmarks.train_step.TimedStep`; the input pipeline is not included, and it is
the same for all four). The rows are timed step by step in turns
(`time_interleaved`), so other load on the machine skews them alike; the ratios to the
SiamFC teacher's step are what section 34 uses. Writes `steptime.json` here.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

import jax

from benchmarks.train_step import TimedStep, time_interleaved
from configs import siamfc_teacher, siamrpn_matcher
from dsiam_jax import model_summary, parallel
from dsiam_jax.jobs import train as train_job

HERE = pathlib.Path(__file__).parent


def recipes(head_kernels: tuple[int, ...] = ()) -> dict:
    """Timed row name -> its training config; each of `head_kernels` adds conv1-3 fixed
    with that read-out kernel after the correlation (`model.rpn_head_kernel`)."""
    rows = {"siamfc_teacher": siamfc_teacher.get_config()}
    # The recipe's own default fixes conv1-3 since section 34: each row sets its count.
    for frozen, name in (
        (0, "rpn_matcher"),
        (3, "rpn_matcher_frozen3"),
        (4, "rpn_matcher_frozen4"),
    ):
        config = siamrpn_matcher.get_config()
        config.train.frozen_convs = frozen
        rows[name] = config
    for kernel in head_kernels:
        config = siamrpn_matcher.get_config()
        config.model.rpn_head_kernel = kernel
        rows[f"rpn_matcher_frozen3_k{kernel}"] = config
    return rows


def training_flops(plan) -> float:
    """FLOPs of one training pair: the forward (template + search + head) plus about twice
    the forward of every layer that gets a gradient (conv1-`frozen_convs` get none)."""
    spec, frozen = plan.first_spec, plan.optim.frozen_convs
    layers = model_summary.summarize(spec, plan.template_size, plan.search_size)["layers"]
    fixed = {f"backbone/conv{i + 1}" for i in range(frozen)}
    forward = sum(2 * r["macs"] for r in layers)
    trained = sum(2 * r["macs"] for r in layers if r["name"] not in fixed)
    return forward + 2 * trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--head-kernels", default="", help="comma-separated, e.g. 3")
    parser.add_argument("--rows", default="", help="comma-separated row names (default all)")
    parser.add_argument("--out", default=str(HERE / "steptime.json"))
    args = parser.parse_args()
    configs = recipes(tuple(int(k) for k in args.head_kernels.split(",") if k))
    if args.rows:  # the SiamFC teacher's row first: the ratios are to its step
        names = ["siamfc_teacher", *(n for n in args.rows.split(",") if n != "siamfc_teacher")]
        configs = {name: configs[name] for name in names}
    batch = int(configs["siamfc_teacher"].train.batch_size)
    assert all(int(c.train.batch_size) == batch for c in configs.values())
    parallel.configure_cpu_devices(0, batch)  # as the training jobs
    devices = parallel.data_mesh().size
    steps = []
    for name, config in configs.items():
        plan, _ = train_job.build_plan(config)
        steps.append(TimedStep(name, plan, None, batch // devices, training_flops(plan)))
    load_before = os.getloadavg()[0]
    rows = time_interleaved(steps, args.repeats)
    base = rows[0]["step_ms"]
    payload = {
        "devices": devices,
        "global_batch": batch,
        "repeats": args.repeats,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rows": rows,
        "step_time_vs_siamfc_teacher": {r["name"]: r["step_ms"] / base for r in rows},
        "backend": jax.default_backend(),
    }
    pathlib.Path(args.out).write_text(json.dumps(payload, indent=1) + "\n")
    print(json.dumps(payload["step_time_vs_siamfc_teacher"], indent=1))


if __name__ == "__main__":
    main()
