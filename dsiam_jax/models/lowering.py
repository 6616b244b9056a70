"""`Lowering`: how one job computes its networks on its backend (speed only, same results).

A job picks one lowering (`Lowering.for_backend()`, the only place that asks JAX
for its backend) and passes it down to the model, tracker and train-step
builders; nothing below looks at the platform at trace time. Every choice is
between equal computations (tested against the same references), so a lowering
is never stored in a checkpoint. Fields left at 'auto' take the backend's
measured choice below; config fields force one (`model.xcorr_impl`,
`model.conv1_split`, `model.conv1_s2d`, `tracker.scales_impl`, `eval.batch_impl`).

The measurements behind each choice (2-core XLA:CPU unless stated):

XLA:CPU kernels (`conv_library`, added 2026-12-03). jax 0.10's XLA:CPU hands convs and
dots to YNNPACK (`ynn_fusion` ops); the compile option
`xla_cpu_experimental_ynn_fusion_type=''` keeps them on Eigen. Which is faster depends
on the program, so `library(batch)` picks per program and `compiler_options(batch)`
gives the jit option: Eigen for batch-1 programs (the tracker) and for a frozen
teacher's forward at any batch (`inference`), YNNPACK for training steps. The tables
below that predate this were measured on YNNPACK; on Eigen conv1 is one plain conv,
and Winograd and input-channel chunks are not used (both lost to Eigen's conv).
Measured 2026-12-03 in one process per table, variants interleaved, on 2 cores shared
with a training job (compare within a row; milliseconds):

| single conv, batch 1 | YNNPACK: one conv / per group or chunks | Eigen: same two |
|---|---|---|
| teacher conv2 5x5 96->256 g2, 61x61 | 35.6 / 19.1 | 16.4 / 14.5 |
| teacher conv3 3x3 256->384, 28x28 | 9.6 | 6.5 |
| teacher conv4 / conv5 3x3 g2, 24 / 22 | 10.5 / 5.5 ; 6.5 / 3.0 | 4.4 / 3.8 ; 2.8 / 2.4 |
| student conv2 5x5 24->64 g2, 61x61 | 2.5 / 1.3 | 2.5 / 1.4 |
| pysot conv2 5x5 96->256, 69x69 (input chunks of 48) | 98.4 / 49.6 | 29.2 / 30.6 |

| program | YNNPACK (rules of the time) | Eigen |
|---|---|---|
| tracker step, zoo siamfc_teacher (crop + 3 scales + update) | 145.1 | 108.7 (0.75x) |
| tracker step, zoo siamfc_student_0 | 26.6 | 23.4 (0.88x) |
| tracker step, zoo siamrpn_teacher / siamrpn_student_0 | 31.7 / 8.5 | 21.6 / 5.8 (0.68x) |
| SiamFC teacher forward, batch 8 (the distillation teacher) | 845 | 348 |
| 2 quarter-width students' step, cached teacher, batch 8 | 668 | 828 |
| SiamFC teacher training step, batch 8 (quiet machine: 1297 / 1296) | 2886 | 2746 |
| laptop teacher 48-128-192-192-128 / student 16-32-48-48-32, training | 792 / 175 | 1088 / 218 |
| teacher + 2 students as one program, batch 8 | 1473 | 1185 |
| SiamRPN up-channel teacher 192-512-768-768-512 training, batch 8 | 11631 | 5523 |

The teacher's forward and the students' training want different kernels, so on CPU a
distillation runs the teacher as its own program (Eigen) just before the students' step
(YNNPACK) instead of inside it (`teacher_in_step`; ~348 + 668 ms against 1473 ms as one
program on YNNPACK). Training steps take Eigen when their widest conv has >= 384
outputs (`training`): the SiamFC teacher's step is about the same, the full-size
SiamRPN teacher's halves; narrower models stay on YNNPACK.

Siamese correlation (`xcorr_impl`, lowerings in `dsiam_jax.models.xcorr`), B=8,
forward / forward+backward of a sum of squares:

| op (C=256) | vmap | map | shift |
|---|---|---|---|
| SiamFC 6x6 over 22x22 | 75 / 1816 ms | 7 / 29 ms | 29 / 48 ms |
| up-channel 4x4, O=10 | 55 / 732 ms | 5 / 123 ms | 20 / 48 ms |
| depthwise 4x4 | 35 / 622 ms | 23 / 1696 ms | 0.5 / 23 ms |

`taps` (added 2026-12-02: one matrix product over channels, then a sum of shifted
slices), against `map` and `shift` in one run: forward+backward at B=8, and the
tracker's call (one template, one search crop; forward):

| op | C | B=8 fwd+bwd: map / shift / taps | tracking: map / taps |
|---|---|---|---|
| SiamFC 6x6 over 22x22 | 64 | 6.4 / 3.5 / 4.1 ms | 0.25 / 0.04 ms |
| SiamFC 6x6 over 22x22 | 256 | 30.6 / 30.4 / 4.8 ms | 0.97 / 0.15 ms |
| up-channel 4x4, O=10 | 64 | 28.8 / 6.1 / 17.3 ms | 0.20 / 0.16 ms |
| up-channel 4x4, O=10 | 256 | 114 / 41.7 / 22.5 ms | 0.82 / 0.34 ms |

so 'auto' is `taps` for SiamFC and up-channel, `shift` for depthwise on CPU, and
`vmap` (one grouped conv, what accelerators want) elsewhere. (`shift` is faster to
train at 64 channels, where the correlation is about 1% of a student's step.)

conv1 (`conv1_split`, `conv1_s2d`): the 11x11/2 conv on 3 channels. With 24 or 32
outputs it took 45 / 28 ms on a 255 crop against 3 ms with 16, so it is computed in
chunks of 16 output channels. Space-to-depth (2x2 pixel blocks folded into 12 channels,
the kernel padded to 12x12 and folded alike: a 6x6 stride-1 conv, the same function) is
faster again. Measured 2026-12-02 in one run on 2 cores shared with a training job
(compare within a row; milliseconds: forward at batch 1, the tracker's per-scale call;
forward / kernel gradient at batch 8, a training step):

| out | batch 1: one conv / chunks of 16 / s2d + chunks | batch 8: same three |
|---|---|---|
| 16 | 3.3 / - / 2.4 | 23 / 35 ; - ; 18 / 24 |
| 24 | 38.5 / 5.8 / 4.6 | 341 / 154 ; 48 / 67 ; 40 / 50 |
| 32 | 19.0 / 6.0 / 4.7 | 239 / 158 ; 53 / 66 ; 36 / 47 |
| 48 | 9.6 / 8.8 / 6.4 | 125 / 260 ; 78 / 108 ; 69 / 76 |
| 64 | 7.7 / 13.4 / 9.9 | 107 / 230 ; 114 / 143 ; 89 / 98 |
| 96 | 5.7 / 8.9 / 6.9 (s2d, one conv; quiet machine) | 226 / 502 ; 167 / 198 ; 140 / 111 |
| 192 | | 391 / 1078 ; 337 / 316 ; 273 / 203 |

so on CPU 'auto' folds conv1 into 2x2 blocks and computes it in chunks of 16 outputs
at training batches (all widths) and for batch-1 calls below 64 outputs; wider batch-1
calls keep one conv. Chunks of 8 or 32 and s2d without chunks were slower. Whole
training steps at batch 8 (interleaved A/B against the rule before: chunks of 16 for
17-63 outputs at any batch, no pixel blocks): SiamFC teacher 3568 -> 2870 ms (on cores shared with a
training job), SiamRPN up-channel teacher 192-512-768-768-512 11.66 -> 11.05 s (quiet).

Students' conv1 together (`shared_conv1`): the students of a distillation see the same
crops, so their conv1s run as one conv over their kernels side by side, e.g. two
24-output students as 48 outputs in 3 chunks of 16 instead of 2 x (16 + 8), the same
values bit for bit. The two quarter-width students' step with cached teacher outputs
at batch 8 (`benchmarks/train_step.py`, `..._own_conv1` row; `benchmarks/cpu_devices.py`,
2026-12-04, quiet machine): on 2 CPU devices of 4 pairs 322 -> 304 / 305 ms (1.06x), on
one device of 8 no change (349 -> 347, 366 -> 368 ms).

Max-pools (`pool_by_slices`, `dsiam_jax.models.pooling`): `reduce_window`'s gradient
(`select_and_scatter`) took 37.6 / 20.6 ms forward+backward at batch 8 on the
quarter-width student's pool1 / pool2; the maximum of 9 strided slices with the same
gradient rule 7.3 / 2.7 ms. CPU only (not measured elsewhere).

Grouped convs (`split_grouped_convs`): SiamFC's conv2 / conv4 (groups 2) took 30 /
23 ms as one grouped conv and 18 / 9 ms as one conv per group (batch 1);
forward+backward at batch 8 went from 2162 / 610 ms to 715 / 160 ms. CPU only.

Winograd F(2x2, 3x3) (`use_winograd`, `dsiam_jax.models.winograd`): a batch-1 3x3
conv as 16 matrix products. Per frame of 3 scales, the kernel transform done once
(as in the tracker, where XLA hoists it out of the loop over scales), against the
conv as the model ran it before (one conv per group), quiet 2-core machine:

| conv | in -> out, groups | conv / Winograd |
|---|---|---|
| SiamFC teacher conv3 | 256 -> 384 | 1.63x |
| SiamFC teacher conv4 / conv5 | 384 -> 384 / 256, g2 | 1.31x / 1.17x |
| pysot AlexNet conv3 / 4 / 5 (search 287, 1 scale) | 256-384, no groups | 1.48x / 1.72x / 1.78x |
| quarter-width student conv3 | 64 -> 96 | 1.24x |
| laptop teacher conv3 / conv4 / conv5 | 128 -> 192; 192, g2 | 1.13x / 0.93x / 0.91x |
| quarter-width student conv4 / conv5 | 96, g2 | 0.78x / 0.78x |

so 'auto' takes it on CPU for batch 1, >= 16x16 outputs and >= 64 inputs (>= 192 per
group when grouped). The whole 3-scale search of the SiamFC teacher went from 120 to
112 ms (7%; the quarter-width student 5%). At training batches (8, forward +
backward) it gained 11% on the teacher's step and nothing on the laptop teacher's, so
training keeps the convs. F(4x4, 3x3) was another 10-20% faster on the teacher's
layers but 10x less exact (relative 1e-5); F(2x2, 5x5) for conv2 was slower than one
conv per group. (The pysot row is against one conv; its input-channel chunks below
gain 10-25%.)

Batch-1 input-channel chunks (`input_chunk`, tracking: one search crop per call):
a 5x5 conv of 96 -> 256 channels on 69x69 (pysot AlexNet conv2 at search 287)
took 87 ms as one conv and 33-36 ms as two 48-channel convs summed; 192 -> 512 on
61x61 (the SiamRPN teacher) 308 vs 108 ms; 3x3 convs of 384-768 inputs gain
10-25% with 128-channel chunks. At batch 8 the split was no faster (training
keeps one conv), so it applies to batch 1 on CPU only.

Scale pyramid (`scales_impl`): a batch of 3 search crops ran slower than three
single crops (SiamFC teacher: 348 ms batched vs 234 ms as `lax.map`), so 'auto'
is 'map' on CPU and 'batch' on accelerators.

Batched tracking (`batch_impl`, `dsiam_jax.tracking.batched`): sequences as a
`lax.map` loop of batch-1 steps on CPU (for the reasons above), `vmap`-ed into one
batched network call on accelerators.

Training steps: on XLA:CPU, collective steps dispatched back to back can
deadlock, so the trainer overlaps a step's metrics check with the next step's
dispatch on accelerators only (`overlap_train_steps`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax

from dsiam_jax.errors import ConfigError

XCORR_IMPLS = ("auto", "vmap", "map", "shift", "taps")
SCALES_IMPLS = ("auto", "map", "batch")
BATCH_IMPLS = ("auto", "vmap", "map")
SWITCH_MODES = ("auto", "on", "off")  # lowerings that are either used or not
CONV_LIBRARIES = ("auto", "ynn", "eigen")  # XLA:CPU's kernels for convs and dots
# Training steps of models this wide (outputs of their widest conv) run on Eigen.
WIDE_TRAINING_CHANNELS = 384
# XLA:CPU compile option that hands no op to YNNPACK (convs and dots then run on Eigen).
_NO_YNN = {"xla_cpu_experimental_ynn_fusion_type": ""}


@functools.cache
def eigen_option_supported() -> bool:
    """Whether this jaxlib's XLA:CPU takes the option that keeps ops off YNNPACK (a
    jaxlib without that flag rejects it, and then every program keeps XLA's kernels)."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=_NO_YNN).lower(1.0).compile()
    except Exception:  # jax's runtime error type moved between versions
        return False
    return True


def current_backend() -> str:
    """The platform of JAX's default backend ('cpu', 'gpu', 'tpu')."""
    return jax.default_backend()


@dataclasses.dataclass(frozen=True)
class Lowering:
    """The backend a job runs on, plus any lowering a config forces ('auto' = measured).

    Attributes:
      backend: platform name as `jax.default_backend()` gives it.
      xcorr_impl: Siamese correlation, 'auto' | 'vmap' | 'map' | 'shift' | 'taps'.
      conv1_split: conv1 output channels in chunks of N; 0 = one conv; 'auto'.
      conv1_s2d: conv1 (stride 2) as a stride-1 conv on 2x2 pixel blocks, 'auto' | 'on' | 'off'.
      scales_impl: a tracker's scale pyramid, 'auto' | 'map' | 'batch'.
      batch_impl: many sequences tracked at once, 'auto' | 'map' | 'vmap'.
      winograd: 3x3 stride-1 convs by Winograd F(2x2, 3x3), 'auto' | 'on' | 'off'.
      conv_library: XLA:CPU's kernels for convs and dots, 'auto' | 'ynn' | 'eigen'.
      shared_conv1: several trained networks' conv1 on the same crops as one conv,
        'auto' | 'on' | 'off' (`shares_conv1`).
    """

    backend: str
    xcorr_impl: str = "auto"
    conv1_split: int | str = "auto"
    conv1_s2d: str = "auto"
    scales_impl: str = "auto"
    batch_impl: str = "auto"
    winograd: str = "auto"
    conv_library: str = "auto"
    shared_conv1: str = "auto"

    def __post_init__(self):
        if self.xcorr_impl not in XCORR_IMPLS:
            raise ConfigError(
                f"model.xcorr_impl={self.xcorr_impl!r}: expected one of {XCORR_IMPLS}"
            )
        if self.conv1_split != "auto":
            try:
                split = int(self.conv1_split)
            except (TypeError, ValueError):
                split = -1
            if split < 0:
                raise ConfigError(
                    f"model.conv1_split={self.conv1_split!r}: expected 'auto' or a width >= 0"
                )
            object.__setattr__(self, "conv1_split", split)
        if self.conv1_s2d not in SWITCH_MODES:
            raise ConfigError(f"model.conv1_s2d={self.conv1_s2d!r}: expected one of {SWITCH_MODES}")
        if self.scales_impl not in SCALES_IMPLS:
            raise ConfigError(
                f"tracker.scales_impl={self.scales_impl!r}: expected one of {SCALES_IMPLS}"
            )
        if self.batch_impl not in BATCH_IMPLS:
            raise ConfigError(f"eval.batch_impl={self.batch_impl!r}: expected one of {BATCH_IMPLS}")
        if self.winograd not in SWITCH_MODES:
            raise ConfigError(f"model.winograd={self.winograd!r}: expected one of {SWITCH_MODES}")
        if self.shared_conv1 not in SWITCH_MODES:
            raise ConfigError(f"shared_conv1={self.shared_conv1!r}: expected one of {SWITCH_MODES}")
        if self.conv_library not in CONV_LIBRARIES:
            raise ConfigError(
                f"model.conv_library={self.conv_library!r}: expected one of {CONV_LIBRARIES}"
            )

    @classmethod
    def for_backend(cls, backend: str | None = None, **forced: Any) -> Lowering:
        """The lowering for `backend` (default: JAX's default backend, asked once here).

        `forced` sets fields (`xcorr_impl=`, `conv1_split=`, ...); None leaves 'auto'.
        """
        forced = {k: v for k, v in forced.items() if v is not None}
        return cls(backend or current_backend(), **forced)

    def replace(self, **forced: Any) -> Lowering:
        """A copy with some fields forced (None keeps the current value)."""
        forced = {k: v for k, v in forced.items() if v is not None}
        return dataclasses.replace(self, **forced) if forced else self

    @property
    def on_cpu(self) -> bool:
        return self.backend == "cpu"

    def xcorr(self, op: str) -> str:
        """Lowering of the correlation `op` ('xcorr' | 'upchannel' | 'depthwise')."""
        if self.xcorr_impl != "auto":
            return self.xcorr_impl
        if not self.on_cpu:
            return "vmap"
        return "shift" if op == "depthwise" else "taps"

    def library(self, batch: int) -> str:
        """XLA:CPU's kernels for the convs of a program at `batch` examples per conv:
        'eigen' for batch 1 (a tracker's calls), 'ynn' (YNNPACK, XLA's default) for
        training batches (tables above); forced by `conv_library`."""
        if self.conv_library != "auto":
            return self.conv_library
        eigen = self.on_cpu and batch == 1 and eigen_option_supported()
        return "eigen" if eigen else "ynn"

    def compiler_options(self, batch: int) -> dict[str, str] | None:
        """`jax.jit(compiler_options=...)` for a program whose convs run at `batch`
        (None: XLA's defaults). CPU only."""
        eigen = self.on_cpu and self.library(batch) == "eigen" and eigen_option_supported()
        return dict(_NO_YNN) if eigen else None

    def inference(self) -> Lowering:
        """The lowering of a frozen network's forward pass at any batch (a distillation
        teacher): on CPU 'auto' takes Eigen, whose forward beat YNNPACK's at batch 8
        (table above); a forced `conv_library` is kept."""
        if not self.on_cpu or self.conv_library != "auto" or not eigen_option_supported():
            return self
        return self.replace(conv_library="eigen")

    def training(self, widest_channels: int) -> Lowering:
        """The lowering of a training step whose widest trained conv has `widest_channels`
        outputs: on CPU 'auto' takes Eigen from 384 on (the full SiamRPN up-channel
        teacher's step 0.47x, the SiamFC teacher's 0.95-1.0x), YNNPACK below (the laptop
        teacher's and the students' steps 1.24-1.37x slower on Eigen; table above)."""
        wide = widest_channels >= WIDE_TRAINING_CHANNELS
        if not self.on_cpu or self.conv_library != "auto" or not wide:
            return self
        return self.inference()

    @property
    def teacher_in_step(self) -> bool:
        """Whether a distillation teacher's forward runs inside the students' train step
        (one program) or as its own program just before it: on CPU its kernels
        (`inference`) and the students' are chosen by different compile options."""
        return not self.on_cpu

    def _conv1_lowered(self, out_channels: int, batch: int) -> bool:
        """Where conv1 on pixel blocks in chunks of 16 beat one conv (table above)."""
        if not self.on_cpu or self.library(batch) == "eigen":
            return False
        return batch > 1 or out_channels < 64

    def conv1_chunk(self, out_channels: int, batch: int = 1) -> int:
        """Chunk of conv1's output channels computed per conv (0 = one conv)."""
        if self.conv1_split != "auto":
            return int(self.conv1_split)
        return 16 if out_channels > 16 and self._conv1_lowered(out_channels, batch) else 0

    def conv1_space_to_depth(self, out_channels: int, batch: int, stride: int) -> bool:
        """Whether conv1 runs as a stride-1 conv on `stride` x `stride` pixel blocks."""
        if stride == 1 or self.conv1_s2d == "off":
            return False
        return self.conv1_s2d == "on" or self._conv1_lowered(out_channels, batch)

    @property
    def shares_conv1(self) -> bool:
        """Whether a step that trains several networks on the same crops (the students
        of a distillation) computes their conv1 as one conv (`alexnet.shared_conv1`):
        'auto' = yes on every backend (measured on CPU, table above)."""
        return self.shared_conv1 != "off"

    @property
    def pool_by_slices(self) -> bool:
        """Max-pools as a maximum of strided slices with their own gradient (CPU)."""
        return self.on_cpu

    @property
    def split_grouped_convs(self) -> bool:
        """Grouped convs as one conv per group (CPU)."""
        return self.on_cpu

    def input_chunk(self, batch: int, in_channels: int, kernel: int) -> int:
        """Input-channel chunk for a conv on `batch` examples (0 = one conv)."""
        if batch != 1 or not self.on_cpu or self.library(batch) == "eigen":
            return 0
        chunk = 48 if kernel >= 5 else 128
        if in_channels <= chunk or in_channels % chunk or (kernel < 5 and in_channels <= 256):
            return 0
        return chunk

    def use_winograd(
        self, batch: int, in_channels: int, groups: int, kernel: int, stride: int, out_size: int
    ) -> bool:
        """Whether a conv (`out_size` x `out_size` outputs) runs as Winograd F(2x2, 3x3)."""
        if kernel != 3 or stride != 1 or self.winograd == "off":
            return False
        if self.winograd == "on":
            return True
        wide = in_channels // groups >= (64 if groups == 1 else 192)
        ynn = self.library(batch) == "ynn"
        return self.on_cpu and ynn and batch == 1 and wide and out_size >= 16

    def search_scales(self, num_scales: int) -> str:
        """'map' (a loop of batch-1 search forwards) or 'batch' (one forward of S crops)."""
        if num_scales <= 1:
            return "batch"
        if self.scales_impl != "auto":
            return self.scales_impl
        return "map" if self.on_cpu else "batch"

    @property
    def batched_tracking(self) -> str:
        """'map' (a loop of per-sequence steps) or 'vmap' (one batched step)."""
        if self.batch_impl != "auto":
            return self.batch_impl
        return "map" if self.on_cpu else "vmap"

    @property
    def overlap_train_steps(self) -> bool:
        """Whether the trainer checks a step's metrics after dispatching the next."""
        return not self.on_cpu
