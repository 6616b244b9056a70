"""Loss, distillation and optimiser settings as frozen dataclasses.

They are the `loss` section of `configs/default.py` (built from `LossSettings`'
defaults) and the distillation / optimiser fields of its `distill` and `train`
sections (same names, same defaults, which SPEC sections 2, 4, 5 and 6 give;
tests/test_config_defaults.py keeps them equal), so that the step can be built
without ml_collections (the benchmark runs on machines that lack it) and so that
they can be static, hashable jit arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dsiam_jax.config_sections import dataclass_from_section

SOFT_FORMS = ("pointwise", "spatial")
REG_FORMS = ("smooth_l1", "giou")


@dataclasses.dataclass(frozen=True)
class LossSettings:
    """Ground-truth losses (config section `loss`, SPEC section 2)."""

    # SiamFC: a response cell is positive within this distance of the target centre.
    siamfc_radius: float = 16.0  # search-crop pixels (2 cells at stride 8)
    siamfc_distance: str = "euclidean"  # euclidean (SiamFC) | l1 (siamfc-pytorch)
    # SiamRPN anchors: IoU > pos_iou positive, < neg_iou negative, the rest ignored.
    rpn_pos_iou: float = 0.6
    rpn_neg_iou: float = 0.3
    rpn_num_samples: int = 64  # anchors sampled per pair ...
    rpn_max_pos: int = 16  # ... at most this many positive (the rest negative)
    # A negative pair samples its negatives from the anchors of the cells within this
    # many cells (per axis) of the centre of the object its search crop shows (pysot:
    # 3, a 7 x 7 window, 16 anchors), so the loss sees a wrong object scored high, not
    # background; -1 = num_samples from the whole map (studies/siamrpn section 17).
    rpn_neg_pair_radius: int = 3
    rpn_neg_pair_samples: int = 16
    # cls loss: positives and negatives each half the weight (pysot) or a plain mean
    # over the sampled anchors (False, the SiamRPN paper).
    rpn_cls_balanced: bool = True
    rpn_loc_weight: float = 1.2  # weight of the regression loss in gt = cls + w * reg
    rpn_smooth_l1_beta: float = 1.0 / 9.0  # smooth-L1 transition (Faster R-CNN RPN); 0 = L1
    # Box loss: 'smooth_l1' on the 4 deltas (pysot) | 'giou' (1 - generalised IoU of the
    # decoded boxes: a 4 px miss weighs by the target's size; studies/siamrpn section 15).
    rpn_reg_form: str = "smooth_l1"
    # Weight of the ranking term (0 = off): cross-entropy of a softmax over the whole
    # map's foreground log-odds against the positive anchors, so the target must
    # outscore every negative anchor, distractors included (studies/siamrpn).
    rpn_rank_weight: float = 0.0
    # Weight of the centre term (0 = off): SiamFC's balanced logistic loss, with
    # SiamFC's labels (cells within siamfc_radius of the target centre), on each
    # cell's best foreground log-odds (max over its anchors): a cell-level label that
    # does not depend on the anchors' shapes (studies/siamrpn section 14).
    rpn_center_weight: float = 0.0

    def __post_init__(self):
        if self.siamfc_distance not in ("euclidean", "l1"):
            raise ValueError(f"siamfc_distance={self.siamfc_distance!r}: euclidean | l1")
        if self.rpn_reg_form not in REG_FORMS:
            raise ValueError(f"rpn_reg_form={self.rpn_reg_form!r}: one of {REG_FORMS}")
        if not 0 <= self.rpn_neg_iou <= self.rpn_pos_iou <= 1:
            raise ValueError("need 0 <= rpn_neg_iou <= rpn_pos_iou <= 1")
        if not 0 <= self.rpn_max_pos <= self.rpn_num_samples:
            raise ValueError("need 0 <= rpn_max_pos <= rpn_num_samples")
        if self.rpn_neg_pair_radius < -1 or self.rpn_neg_pair_samples < 1:
            raise ValueError("need rpn_neg_pair_radius >= -1 and rpn_neg_pair_samples >= 1")
        if self.rpn_rank_weight < 0 or self.rpn_center_weight < 0:
            raise ValueError("need rpn_rank_weight >= 0 and rpn_center_weight >= 0")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> LossSettings:
        return dataclass_from_section(cls, section, "config.loss")


@dataclasses.dataclass(frozen=True)
class DistillSettings:
    """Teacher-to-student and student-to-student terms (section `distill`, SPEC 4-5)."""

    lambda_cls: float = 1.0  # background-suppressed soft loss (teacher -> student)
    lambda_reg: float = 1.0  # teacher-bounded regression (RPN only)
    lambda_hint: float = 0.0  # feature hint through a trained 1x1 adapter; 0 = off
    temperature: float = 2.0  # T of the soft loss (scaled by T^2)
    beta: float = 0.1  # soft-loss weight of positions that are background for GT and teacher
    rho: float = 0.1  # teacher foreground probability below which a position is background
    margin: float = 0.0  # bounded regression: penalise where e_student + margin > e_teacher
    # Form of the soft loss: 'spatial' (each map as one distribution over positions:
    # softmax of the foreground logit / T; blind to a constant logit offset; no
    # suppression, beta / rho unused: see losses.spatial_kl) | 'pointwise' (the paper's,
    # SPEC 4: per-position KL of the sigmoid / 2-way softmax, background-suppressed
    # weighted mean). 'spatial' is the default from the distillation study
    # (studies/distillation/README.md): SiamFC students distilled with it beat the same
    # student from scratch by more than 2 SE, the pointwise form did not. SiamRPN configs
    # (dstrpn.py) and the paper's ablation (ablation.py) keep 'pointwise' (not studied).
    soft_form: str = "spatial"
    # pointwise only: the label's positives and its background each carry half of the
    # soft loss (as in the ground-truth loss) instead of one weight per position.
    soft_balanced: bool = False
    # Student-student sharing (N >= 2): share_i = sum_j c_ij (KL(sg(p_j) || p_i)
    # + share_reg_weight * peer-bounded regression), c_ij = 1 if peer j has the lower
    # ground-truth loss on the batch, else alpha.
    share: bool = True
    gamma: float = 1.0  # weight of the sharing term
    alpha: float = 0.0  # c_ij of a peer that is not better on the batch
    share_temperature: float = 1.0  # temperature of the peer KL
    share_reg_weight: float = 1.0  # peer-bounded regression inside the sharing term (RPN)

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

    num_steps: int = 1000  # optimiser updates in the whole run (a resumed run continues to it)
    # Learning rate: log-linear decay from lr_start (after warm-up) to lr_end at num_steps.
    lr_start: float = 1e-2
    lr_end: float = 1e-5
    warmup_steps: int = 0  # linear warm-up from lr_start / warmup_steps; 0 = off
    momentum: float = 0.9  # SGD momentum; 0 = plain SGD
    weight_decay: float = 5e-4  # added to the gradient (PyTorch SGD style); 0 = off
    grad_clip: float = 0.0  # clip the loss gradient to this global norm; 0 = off
    # Exponential moving average of every trained model's variables (parameters and
    # BatchNorm statistics), what its checkpoints then give trackers (the raw weights are
    # kept beside them as `<name>_raw`); 0 = off. The decay ramps up over the first
    # updates (`state.ema_decay_at`), so the initial weights do not linger in it.
    ema_decay: float = 0.0
    # Factor on the backbones' updates (every parameter under a model's 'backbone'); 0 =
    # frozen, e.g. a backbone from model.init_from while the head learns (pysot freezes
    # its pretrained backbone at first, then trains it at 0.1x). Its BatchNorm still
    # normalises by batch statistics in training and updates its running averages.
    backbone_lr_scale: float = 1.0
    # The first `frozen_convs` backbone convs (0-5) are fixed: their parameters are not
    # updated, their BatchNorm normalises by its running averages, and no gradient flows
    # through them, so their backward pass is not computed (a faster step). pysot trains
    # only conv4 and conv5 of its pretrained AlexNet (TRAIN_LAYERS): frozen_convs=3.
    frozen_convs: int = 0
    # Factor on the updates of each RPN model's regression tower: the 'reg' branch's
    # convs and BatchNorm before its output conv (`optim.scale_updates`). That output
    # conv starts at `model.reg_init_scale` (0.1) and stays about that size, which
    # scales the gradient reaching the tower by as much under SGD: 1 / reg_init_scale
    # gives the tower back the rate of a He-normal start (studies/siamrpn section 38).
    reg_lr_scale: float = 1.0
    # The same for the 'cls' branch's tower. Its output conv starts at
    # `model.cls_init_scale` x He-normal (configs/siamrpn_matcher.py: 0) and grows to
    # about 0.3-0.4 of He-normal's norm in 1,000 steps; 3 tracked as 1 there (studies/
    # siamrpn section 39).
    cls_lr_scale: float = 1.0

    def tower_lr_scales(self) -> dict[str, float]:
        """RPN output ('cls' | 'reg') -> its tower's factor, for those not 1."""
        scales = {"cls": self.cls_lr_scale, "reg": self.reg_lr_scale}
        return {output: f for output, f in scales.items() if f != 1.0}

    def __post_init__(self):
        if not self.backbone_lr_scale >= 0:
            raise ValueError(f"backbone_lr_scale={self.backbone_lr_scale} must be >= 0")
        for name in ("reg_lr_scale", "cls_lr_scale"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        if not 0 <= self.frozen_convs <= 5:
            raise ValueError(f"frozen_convs={self.frozen_convs} must be in [0, 5]")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay={self.ema_decay} must be in [0, 1)")
        if self.num_steps <= 0:
            raise ValueError(f"num_steps={self.num_steps} must be positive")
        if self.lr_start <= 0 or self.lr_end <= 0:
            raise ValueError("lr_start and lr_end must be positive (log-linear decay)")
        if not 0 <= self.warmup_steps < self.num_steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} must be in [0, num_steps)")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> OptimSettings:
        return dataclass_from_section(cls, section, "config.train")


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """How `trainer.train` drives a run: the loop fields of config section `train`,
    plus `mode`, `seed`, `model.init_from`, `distill.teacher_cache` and the data
    section the teacher cache is keyed by. Built by the jobs layer (`from_config`);
    the defaults live in configs/default.py alone, so every field is required here.
    """

    mode: str  # 'train' | 'distill'
    seed: int  # drives the data and the initialisation
    num_steps: int
    batch_size: int  # global pairs per step
    checkpoint_every: int
    log_every: int
    max_to_keep: int  # 0 = all
    num_devices: int  # 0 = all
    exit_after_steps: int  # 0 = run to num_steps
    model_role: str  # what mode=train's saved model records as its role
    init_from: str  # backbone source(s) of the trained models ('' = random)
    teacher_cache: str  # mode=distill: 'off' | 'auto' | a folder
    input: str  # 'pipeline' | 'toy' (part of the teacher-cache key)
    data: Mapping[str, Any]  # config.data as a plain dict (part of the teacher-cache key)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunSettings:
        """From a whole config (`config.train`, `mode`, `seed`, `model`, `distill`, `data`)."""
        t, data = config["train"], config["data"]
        return cls(
            mode=str(config["mode"]),
            seed=int(config["seed"]),
            num_steps=int(t["num_steps"]),
            batch_size=int(t["batch_size"]),
            checkpoint_every=int(t["checkpoint_every"]),
            log_every=int(t["log_every"]),
            max_to_keep=int(t["max_to_keep"]),
            num_devices=int(t["num_devices"]),
            exit_after_steps=int(t["exit_after_steps"]),
            model_role=str(t["model_role"]),
            init_from=str(config["model"]["init_from"] or ""),
            teacher_cache=str(config["distill"]["teacher_cache"]),
            input=str(t["input"]),
            data=data.to_dict() if hasattr(data, "to_dict") else dict(data),
        )
