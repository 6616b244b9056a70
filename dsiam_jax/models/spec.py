"""`ModelSpec`: everything that fixes a tracker network's architecture, and
`TrackerModel`: a named network (spec + variables) ready to track.

A spec is what a checkpoint records (`to_dict` / `from_dict`), so that a model can
be rebuilt without the config that trained it. A student is the same spec with
other channel lists. `dsiam_jax.checkpoints` saves and loads `TrackerModel`s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from dsiam_jax.errors import ConfigError

KINDS = ("siamfc", "siamrpn")
HEADS = {"siamfc": ("xcorr",), "siamrpn": ("upchannel", "depthwise")}

# Teacher channel lists of SPEC section 2.
SIAMFC_ALEXNET_CHANNELS = (96, 256, 384, 384, 256)
SIAMFC_ALEXNET_GROUPS = (1, 2, 1, 2, 2)
SIAMRPN_ALEXNET_CHANNELS = (192, 512, 768, 768, 512)
SIAMRPN_ALEXNET_GROUPS = (1, 1, 1, 1, 1)


class SpecError(ConfigError):
    """An invalid model specification (names the offending field)."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Architecture of a Siamese tracker network.

    Attributes:
      kind: 'siamfc' (response map) or 'siamrpn' (anchor cls/reg maps).
      channels: output channels of the five AlexNet convs.
      groups: conv groups of the five convs (SiamFC uses (1, 2, 1, 2, 2)).
      head: 'xcorr' for SiamFC; 'upchannel' (SiamRPN) or 'depthwise' (SiamRPN++).
      head_channels: width of the RPN head's feature convs; 0 means channels[-1].
      rpn_head_kernel: kernel of the depth-wise RPN head's conv after the correlation:
        1 (pysot's 1x1: each cell's outputs see only that cell) or an odd k > 1 (k x k,
        zero-padded to keep the map size, as SiamBAN / SiamCAR heads: each cell also
        sees its neighbours, where the sub-cell offset of the target is readable;
        studies/siamrpn section 8).
      rpn_cls_xcorr: RPN only: add SiamFC's correlation of the backbone features (one
        map, scaled by 1/sqrt(6 x 6 x C)) times a learned weight per anchor to the
        foreground logits, so the classifier has a template-matching input from the
        first step (studies/siamrpn section 14).
      anchor_ratios: anchor aspect ratios h/w (RPN only; k = ratios x scales).
      anchor_scales: anchor scales in units of the stride 8 (RPN only).
      final_bn: BatchNorm after conv5 (SiamFC: no; SiamRPN/pysot: yes).
      out_scale: SiamFC response scale (0.001).
      bn_eps: BatchNorm epsilon.
    """

    kind: str = "siamfc"
    channels: tuple[int, ...] = SIAMFC_ALEXNET_CHANNELS
    groups: tuple[int, ...] = SIAMFC_ALEXNET_GROUPS
    head: str = "xcorr"
    head_channels: int = 0
    rpn_head_kernel: int = 1
    rpn_cls_xcorr: bool = False
    anchor_ratios: tuple[float, ...] = (0.33, 0.5, 1.0, 2.0, 3.0)
    anchor_scales: tuple[float, ...] = (8.0,)
    final_bn: bool = False
    out_scale: float = 0.001
    bn_eps: float = 1e-5

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "groups", tuple(int(g) for g in self.groups))
        object.__setattr__(self, "anchor_ratios", tuple(float(r) for r in self.anchor_ratios))
        object.__setattr__(self, "anchor_scales", tuple(float(r) for r in self.anchor_scales))
        self.validate()

    @property
    def num_anchors(self) -> int:
        """Anchors per response position (k)."""
        return len(self.anchor_ratios) * len(self.anchor_scales)

    @property
    def rpn_channels(self) -> int:
        """Width of the RPN head's feature convs."""
        return self.head_channels or self.channels[-1]

    def validate(self) -> None:
        """Raises SpecError naming the field when the spec cannot be built."""
        if self.kind not in KINDS:
            raise SpecError(f"model.kind={self.kind!r}: expected one of {KINDS}")
        if self.head not in HEADS[self.kind]:
            raise SpecError(
                f"model.head={self.head!r} does not fit model.kind={self.kind!r}: "
                f"expected one of {HEADS[self.kind]}"
            )
        if len(self.channels) != 5:
            raise SpecError(f"model.channels={self.channels}: expected 5 conv widths")
        if len(self.groups) != 5:
            raise SpecError(f"model.groups={self.groups}: expected 5 group counts")
        if any(c <= 0 for c in self.channels):
            raise SpecError(f"model.channels={self.channels}: widths must be positive")
        in_channels = (3, *self.channels[:-1])
        for i, (cin, cout, g) in enumerate(zip(in_channels, self.channels, self.groups)):
            if g <= 0 or cin % g or cout % g:
                raise SpecError(
                    f"model.groups[{i}]={g} does not divide conv{i + 1} "
                    f"(in {cin}, out {cout} channels); use groups=1 or even widths"
                )
        if self.head_channels < 0:
            raise SpecError(f"model.head_channels={self.head_channels} must be >= 0")
        if self.rpn_head_kernel < 1 or self.rpn_head_kernel % 2 == 0:
            raise SpecError(f"model.rpn_head_kernel={self.rpn_head_kernel}: expected odd >= 1")
        if self.rpn_head_kernel != 1 and self.head != "depthwise":
            raise SpecError(
                f"model.rpn_head_kernel={self.rpn_head_kernel} needs model.head='depthwise' "
                f"(got {self.head!r})"
            )
        if self.rpn_cls_xcorr and self.kind != "siamrpn":
            raise SpecError(
                f"model.rpn_cls_xcorr=True needs model.kind='siamrpn' (got {self.kind!r})"
            )
        if self.kind == "siamrpn" and (
            self.num_anchors <= 0 or min(self.anchor_ratios + self.anchor_scales) <= 0
        ):
            raise SpecError(
                f"model.anchor_ratios={self.anchor_ratios}, model.anchor_scales="
                f"{self.anchor_scales}: need at least one positive ratio and scale"
            )

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what checkpoints record)."""
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        d["groups"] = list(self.groups)
        d["anchor_ratios"] = list(self.anchor_ratios)
        d["anchor_scales"] = list(self.anchor_scales)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        """Inverse of `to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise SpecError(f"unknown model spec fields {sorted(unknown)}")
        return cls(**dict(d))

    @classmethod
    def from_config(cls, model_config: Mapping[str, Any]) -> ModelSpec:
        """Builds a spec from the `config.model` section (ignores runtime-only fields)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(model_config).items() if k in names})


@dataclasses.dataclass
class TrackerModel:
    """A network ready to track: its name, role, architecture and variables."""

    name: str
    spec: ModelSpec
    variables: dict[str, Any]  # {'params': ..., 'batch_stats': ...}
    role: str = "model"  # 'teacher' | 'student' | 'model'
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        """What a checkpoint's meta item records of this model."""
        return {"role": self.role, "spec": self.spec.to_dict(), "info": self.info}


def teacher_spec(kind: str, head: str | None = None) -> ModelSpec:
    """The paper's teacher for `kind` (SPEC section 2)."""
    if kind == "siamfc":
        return ModelSpec()
    if kind == "siamrpn":
        return ModelSpec(
            kind="siamrpn",
            channels=SIAMRPN_ALEXNET_CHANNELS,
            groups=SIAMRPN_ALEXNET_GROUPS,
            head=head or "upchannel",
            final_bn=True,
        )
    raise SpecError(f"model.kind={kind!r}: expected one of {KINDS}")


def scaled_channels(channels: Sequence[int], ratios: Sequence[float], multiple: int = 2):
    """Channel list shrunk per layer by `ratios`, rounded to `multiple` (at least one)."""
    out = []
    for c, r in zip(channels, ratios, strict=True):
        out.append(max(multiple, int(round(c * r / multiple)) * multiple))
    return tuple(out)
