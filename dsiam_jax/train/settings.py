"""Loss, distillation and optimiser settings as frozen dataclasses.

They mirror the `loss`, `distill` and `train` sections of `configs/default.py`
(same names, same defaults, which SPEC sections 2, 4, 5 and 6 give; a test keeps the
two equal) so that the step can be built without ml_collections (the benchmark runs
on machines that lack it) and so that they can be static, hashable jit arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dsiam_jax.config_sections import dataclass_from_section

SOFT_FORMS = ("pointwise", "spatial")


@dataclasses.dataclass(frozen=True)
class LossSettings:
    """Ground-truth losses (config section `loss`, SPEC section 2)."""

    siamfc_radius: float = 16.0  # positive radius, search-crop pixels
    siamfc_distance: str = "euclidean"  # 'euclidean' | 'l1' (siamfc-pytorch)
    rpn_pos_iou: float = 0.6
    rpn_neg_iou: float = 0.3
    rpn_num_samples: int = 64
    rpn_max_pos: int = 16
    rpn_cls_balanced: bool = True  # pos/neg each half the weight (pysot) vs plain mean
    rpn_loc_weight: float = 1.2
    rpn_smooth_l1_beta: float = 1.0 / 9.0

    def __post_init__(self):
        if self.siamfc_distance not in ("euclidean", "l1"):
            raise ValueError(f"siamfc_distance={self.siamfc_distance!r}: euclidean | l1")
        if not 0 <= self.rpn_neg_iou <= self.rpn_pos_iou <= 1:
            raise ValueError("need 0 <= rpn_neg_iou <= rpn_pos_iou <= 1")
        if not 0 <= self.rpn_max_pos <= self.rpn_num_samples:
            raise ValueError("need 0 <= rpn_max_pos <= rpn_num_samples")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> LossSettings:
        return dataclass_from_section(cls, section, "config.loss")


@dataclasses.dataclass(frozen=True)
class DistillSettings:
    """Teacher-to-student and student-to-student terms (section `distill`, SPEC 4-5)."""

    lambda_cls: float = 1.0  # background-suppressed soft loss
    lambda_reg: float = 1.0  # teacher-bounded regression (RPN)
    lambda_hint: float = 0.0  # feature hint through a 1x1 adapter (0 = off, no adapter)
    temperature: float = 2.0
    beta: float = 0.1  # weight of positions that are background for GT and teacher
    rho: float = 0.1  # teacher foreground probability below which a position is background
    margin: float = 0.0  # bounded-regression margin m
    # Form of the soft loss: 'pointwise' (SPEC 4: per-position KL of the sigmoid /
    # 2-way softmax, background-suppressed weighted mean) | 'spatial' (KL between the
    # maps as distributions over positions, softmax of the foreground logit / T; no
    # suppression: see losses.spatial_kl).
    soft_form: str = "pointwise"
    # pointwise: positives of the label and its background each carry half the soft
    # loss (as in the ground-truth loss) instead of one weight per position.
    soft_balanced: bool = False
    share: bool = True  # student-student knowledge sharing
    gamma: float = 1.0  # weight of the sharing term
    alpha: float = 0.0  # c_ij for a peer that is not better on the batch
    share_temperature: float = 1.0  # temperature of the peer KL
    share_reg_weight: float = 1.0  # weight of the peer-bounded regression (RPN)

    def __post_init__(self):
        if self.temperature <= 0 or self.share_temperature <= 0:
            raise ValueError("temperatures must be positive")
        if self.soft_form not in SOFT_FORMS:
            raise ValueError(f"soft_form={self.soft_form!r}: expected one of {SOFT_FORMS}")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DistillSettings:
        return dataclass_from_section(cls, section, "config.distill")


@dataclasses.dataclass(frozen=True)
class OptimSettings:
    """SGD recipe (section `train`, SPEC section 6)."""

    num_steps: int = 1000
    lr_start: float = 1e-2
    lr_end: float = 1e-5
    warmup_steps: int = 0
    momentum: float = 0.9
    weight_decay: float = 5e-4
    grad_clip: float = 0.0  # global norm; 0 = off

    def __post_init__(self):
        if self.num_steps <= 0:
            raise ValueError(f"num_steps={self.num_steps} must be positive")
        if self.lr_start <= 0 or self.lr_end <= 0:
            raise ValueError("lr_start and lr_end must be positive (log-linear decay)")
        if not 0 <= self.warmup_steps < self.num_steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} must be in [0, num_steps)")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> OptimSettings:
        return dataclass_from_section(cls, section, "config.train")
