"""Train-step throughput: teacher-only training, teacher + 2 students distillation, and
the same 2 students with the teacher's outputs from the cache.

    python -m benchmarks.train_step [--kinds siamfc,siamrpn] [--batch 8] [--cpu-devices N]
        [--out FILE]

Measures the whole jitted data-parallel step (`dsiam_jax.train.step`) at a global batch
of `--batch` pairs split over every local device (on a CPU host, the XLA:CPU devices
the jobs split its cores into: `dsiam_jax.parallel.configure_cpu_devices`), the rows
of a kind timed in turns (step by step) so that other load on the machine skews them
alike: teacher-only = the teacher trained on its ground-truth
loss; distillation = frozen teacher forward + 2 students trained with every default
term (soft, bounded regression for RPN, sharing), as the trainer runs it (on CPU the
teacher's forward is its own program on Eigen kernels just before the students' step on
YNNPACK ones: `Lowering.teacher_in_step`); students only = the same distillation step
with the teacher's outputs in the batch (`distill.teacher_cache`, a batch whose
outputs are already stored: `dsiam_jax.train.teacher_cache`), so the step runs no
teacher (and once more with each student computing its own conv1 instead of one conv
for both, `Lowering.shared_conv1`). The two distillation rows are also timed with
`train.compute_dtype=bfloat16`
(`--no-bf16` skips them). Batches are synthetic and generated on the device
(`dsiam_jax.train.toy_pairs`), one batch reused, so the numbers are the step alone
(reading a cached batch from disk is not included); nothing here imports TensorFlow,
the data pipelines or ml_collections (the script runs on accelerator machines that
only have JAX).

FLOPs per pair (`dsiam_jax.model_summary`, 2 x MACs of convs and correlations):
forward = search branch + head at the training search size + template branch;
a trained model costs ~3x its forward (forward + backward), the frozen teacher 1x,
a cached teacher 0x. On GPUs the achieved FLOP/s is also given as a fraction of the
device's peak.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time

import jax

from benchmarks.timing import arguments, write_json
from dsiam_jax import model_summary, parallel
from dsiam_jax import models as M
from dsiam_jax.train import state as S
from dsiam_jax.train import step as ST
from dsiam_jax.train import toy_pairs
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

# Dense peak TFLOP/s per device (vendor data sheets): (fp32 non-tensor, tf32 tensor).
PEAKS_TFLOPS = {
    "H100": (66.9, 494.7),  # SXM
    "H200": (66.9, 494.7),
    "A100": (19.5, 156.0),
}

STUDENTS = {  # the students of configs/dstfc.py and configs/dstrpn.py
    "siamfc": (((24, 64, 96, 96, 64), (24, 64, 96, 96, 64)), 0),
    "siamrpn": (((48, 128, 192, 192, 128), (48, 128, 192, 192, 128)), 128),
}


def forward_flops(spec: M.ModelSpec, template: int, search: int) -> float:
    """FLOPs of one training pair's forward (template branch + search branch + head)."""
    s = model_summary.summarize(spec, template, search, 1)
    return float(s["flops_per_search"] + s["template_flops"])


def peak_tflops(device_kind: str) -> tuple[float, float] | None:
    for name, peaks in PEAKS_TFLOPS.items():
        if name in device_kind:
            return peaks
    return None


class TimedStep:
    """One row: a compiled train step on its own state and a fixed batch."""

    def __init__(
        self,
        name: str,
        plan: S.TrainPlan,
        teacher_vars,
        batch_per_device: int,
        flops_per_pair: float,
        cached_teacher: bool = False,
    ):
        """`cached_teacher`: the teacher's outputs come with the batch (a cache hit)."""
        self.name, self.plan, self.flops_per_pair = name, plan, flops_per_pair
        self.cached_teacher = cached_teacher
        self.mesh = mesh = parallel.data_mesh()
        self.batch_size = batch_per_device * mesh.size
        make = jax.jit(
            lambda key: toy_pairs.toy_batch(
                key, self.batch_size, plan.template_size, plan.search_size
            ),
            out_shardings=parallel.batch_sharding(mesh),
        )
        self.batch = make(jax.random.key(0))
        self.teacher_vars = S.put_replicated(teacher_vars, mesh) if teacher_vars else {}
        self.teacher_forward = None
        if cached_teacher:  # what a cache hit feeds the step: outputs in the batch
            outputs = ST.make_teacher_forward(plan, mesh)(self.teacher_vars, self.batch)
            self.batch, self.teacher_vars = {**self.batch, **outputs}, {}
        elif self.teacher_vars and not plan.lowering.teacher_in_step:  # as the trainer does
            self.teacher_forward = ST.make_teacher_forward(plan, mesh)
        self.state = S.init_state_on_mesh(plan, 0, mesh)
        self.step = ST.make_train_step(plan, mesh, batch_per_device=batch_per_device)
        t0 = time.perf_counter()
        jax.block_until_ready(self())
        self.first_step_s = time.perf_counter() - t0  # includes compilation

    def __call__(self):
        batch, teacher_vars = self.batch, self.teacher_vars
        if self.teacher_forward is not None:  # the teacher's own program, then the step
            batch, teacher_vars = {**batch, **self.teacher_forward(teacher_vars, batch)}, {}
        self.state, metrics = self.step(self.state, batch, teacher_vars)
        return metrics

    def row(self, seconds: list[float]) -> dict:
        median = statistics.median(seconds)
        pairs_per_s = self.batch_size / median
        plan = self.plan
        row = {
            "name": self.name,
            "kind": plan.kind,
            "trained": {n: list(s.channels) for n, s in plan.specs.items()},
            "teacher": list(plan.teacher_spec.channels) if plan.teacher_spec else None,
            "teacher_in_step": plan.teacher_spec is not None and not self.cached_teacher,
            "teacher_own_program": self.teacher_forward is not None,
            "devices": self.mesh.size,
            "global_batch": self.batch_size,
            "step_ms": 1e3 * median,
            "step_min_ms": 1e3 * min(seconds),
            "first_step_s": self.first_step_s,
            "pairs_per_s": pairs_per_s,
            "gflops_per_pair": self.flops_per_pair / 1e9,
            "achieved_tflops": self.flops_per_pair * pairs_per_s / 1e12,
        }
        peaks = peak_tflops(getattr(jax.devices()[0], "device_kind", ""))
        if peaks and jax.default_backend() == "gpu":
            per_device = row["achieved_tflops"] / self.mesh.size
            row["fraction_of_fp32_peak"] = per_device / peaks[0]
            row["fraction_of_tf32_peak"] = per_device / peaks[1]
        print(
            f"{self.name:<34} {row['step_ms']:9.1f} ms/step  {pairs_per_s:8.1f} pairs/s  "
            f"{row['gflops_per_pair']:7.2f} GFLOP/pair  {row['achieved_tflops']:.3f} TFLOP/s"
        )
        return row


def time_interleaved(steps: list[TimedStep], repeats: int) -> list[dict]:
    """Rows of `steps` timed in turns (one warm-up step each, then `repeats` rounds of
    one step of every row), so that other load on the machine skews all rows alike."""
    for step in steps:
        jax.block_until_ready(step())
    seconds = {step.name: [] for step in steps}
    for _ in range(repeats):
        for step in steps:
            t0 = time.perf_counter()
            jax.block_until_ready(step())
            seconds[step.name].append(time.perf_counter() - t0)
    return [step.row(seconds[step.name]) for step in steps]


def specs(kind: str) -> tuple[M.ModelSpec, list[M.ModelSpec]]:
    """The paper-sized teacher of `kind` and the students of its distillation config."""
    teacher = M.teacher_spec(kind, "upchannel" if kind == "siamrpn" else None)
    channels, head_channels = STUDENTS[kind]
    return teacher, S.student_specs(teacher, channels, head_channels)


def flops_table(template: int, search: int) -> dict:
    """GFLOPs per training pair of both kinds (whether or not they are timed here)."""
    table = {}
    for kind in STUDENTS:
        teacher, students = specs(kind)
        t_fwd = forward_flops(teacher, template, search)
        s_fwd = [forward_flops(s, template, search) for s in students]
        table[kind] = {
            "teacher_forward": t_fwd / 1e9,
            "student_forward": s_fwd[0] / 1e9,
            "teacher_training_step": 3 * t_fwd / 1e9,
            "distillation_step_teacher_plus_2_students": (t_fwd + 3 * sum(s_fwd)) / 1e9,
            "distillation_step_2_students_cached_teacher": 3 * sum(s_fwd) / 1e9,
        }
    return table


def benchmark_kind(
    kind: str, template: int, search: int, batch: int, repeats: int, bf16: bool = True
) -> list:
    """The rows of `kind`: teacher training, distillation with the teacher in the step and
    with cached teacher outputs, and (`bf16`) the two distillation rows in bfloat16."""
    teacher, students = specs(kind)
    common = dict(
        loss=LossSettings(),
        optim=OptimSettings(num_steps=1000),
        template_size=template,
        search_size=search,
    )
    t_fwd = forward_flops(teacher, template, search)
    s_fwd = [forward_flops(s, template, search) for s in students]
    teacher_plan = S.TrainPlan({f"{kind}_teacher": teacher}, **common)
    distill_plan = S.TrainPlan(
        {f"student_{i}": s for i, s in enumerate(students)},
        distill=DistillSettings(),
        teacher_spec=teacher,
        **common,
    )
    teacher_vars = jax.device_get(
        jax.jit(lambda: M.init_variables(M.build(teacher), jax.random.key(1), template, search))()
    )
    steps = [
        TimedStep(f"{kind}_teacher_only", teacher_plan, None, batch, 3 * t_fwd),
        TimedStep(
            f"{kind}_teacher+2_students", distill_plan, teacher_vars, batch, t_fwd + 3 * sum(s_fwd)
        ),
        TimedStep(
            f"{kind}_2_students_cached_teacher",
            distill_plan,
            teacher_vars,
            batch,
            3 * sum(s_fwd),
            cached_teacher=True,
        ),
    ]
    own_conv1 = dataclasses.replace(  # each student its own conv1 (before 2026-12-04)
        distill_plan, lowering=distill_plan.lowering.replace(shared_conv1="off")
    )
    steps.append(
        TimedStep(
            f"{kind}_2_students_cached_teacher_own_conv1",
            own_conv1,
            teacher_vars,
            batch,
            3 * sum(s_fwd),
            cached_teacher=True,
        )
    )
    if bf16:  # train.compute_dtype=bfloat16: same FLOPs, bf16 convs
        bf16_plan = dataclasses.replace(distill_plan, compute_dtype="bfloat16")
        steps += [
            TimedStep(
                f"{kind}_teacher+2_students_bf16",
                bf16_plan,
                teacher_vars,
                batch,
                t_fwd + 3 * sum(s_fwd),
            ),
            TimedStep(
                f"{kind}_2_students_cached_teacher_bf16",
                bf16_plan,
                teacher_vars,
                batch,
                3 * sum(s_fwd),
                cached_teacher=True,
            ),
        ]
    return time_interleaved(steps, repeats)


def main() -> None:
    parser = arguments(__doc__, repeats=0)
    parser.add_argument("--kinds", default=None, help="default: siamfc on CPU, else both")
    parser.add_argument("--batch", type=int, default=8, help="global pairs per step")
    parser.add_argument(
        "--cpu-devices", type=int, default=0, help="as distributed.cpu_devices (0: auto)"
    )
    parser.add_argument("--template", type=int, default=127)
    parser.add_argument("--search", type=int, default=255)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bfloat16 rows")
    args = parser.parse_args()
    parallel.configure_cpu_devices(args.cpu_devices, args.batch)  # as the trainer's jobs
    on_cpu = jax.default_backend() == "cpu"
    args.kinds = args.kinds or ("siamfc" if on_cpu else "siamfc,siamrpn")
    args.repeats = args.repeats or (3 if on_cpu else 20)
    devices = parallel.data_mesh().size
    if args.batch % devices:
        parser.error(f"--batch {args.batch} does not split over {devices} devices")
    load_before = os.getloadavg()[0]  # other processes on the machine skew every row
    rows = []
    for kind in args.kinds.split(","):
        rows += benchmark_kind(
            kind.strip(),
            args.template,
            args.search,
            args.batch // devices,
            args.repeats,
            bf16=not args.no_bf16,
        )
    by_name = {r["name"]: r for r in rows}
    ratios = {}
    for kind in args.kinds.split(","):
        a, b = by_name[f"{kind}_teacher_only"], by_name[f"{kind}_teacher+2_students"]
        c = by_name[f"{kind}_2_students_cached_teacher"]
        ratios[f"{kind}_distill_vs_teacher_step_time"] = b["step_ms"] / a["step_ms"]
        # Distillation pairs/s with the teacher-output cache vs the teacher in the step.
        ratios[f"{kind}_cached_teacher_speedup"] = c["pairs_per_s"] / b["pairs_per_s"]
        # The students' conv1 as one conv (Lowering.shared_conv1) vs one per student.
        own = by_name[f"{kind}_2_students_cached_teacher_own_conv1"]
        ratios[f"{kind}_shared_conv1_speedup"] = c["pairs_per_s"] / own["pairs_per_s"]
        if not args.no_bf16:  # bfloat16 compute vs float32, same rows
            for row in (f"{kind}_teacher+2_students", f"{kind}_2_students_cached_teacher"):
                bf = by_name[f"{row}_bf16"]["pairs_per_s"]
                ratios[f"{row}_bf16_speedup"] = bf / by_name[row]["pairs_per_s"]
            # students-only bf16 steps against today's teacher-in-step fp32 distillation
            ratios[f"{kind}_cached_teacher_bf16_vs_teacher_in_step"] = (
                by_name[f"{kind}_2_students_cached_teacher_bf16"]["pairs_per_s"] / b["pairs_per_s"]
            )
    name = "train_step" if on_cpu else f"train_step_{jax.default_backend()}"
    path = write_json(
        name,
        {
            "global_batch": args.batch,
            "devices": devices,
            "crops": [args.template, args.search],
            "flops_convention": "2 x MACs of convs + correlations; trained model ~3x forward, "
            "frozen teacher 1x forward",
            "gflops_per_pair": flops_table(args.template, args.search),
            "rows": rows,
            "ratios": ratios,
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        },
        args.out,
    )
    print(f"ratios {ratios}\nwrote {path}")


if __name__ == "__main__":
    main()
