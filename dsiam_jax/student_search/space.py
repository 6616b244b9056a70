"""The search space of the student search (SPEC section 3, N2N shrinkage stage).

The prunable layers of a teacher are its five AlexNet convs and, for SiamRPN, the
head (its feature convs' width, `ModelSpec.rpn_channels`). An action per layer picks
a shrink ratio from `RATIOS`; the candidate's widths are

    width = max(multiple, round(teacher_width * ratio / multiple) * multiple)

(`spec.scaled_channels`: round to the nearest multiple of `multiple`, at least one
multiple). With `multiple=1` a width can be odd, which breaks SiamFC's grouped
convs (groups (1, 2, 1, 2, 2) need even widths): such a candidate, and any other
that `ModelSpec.validate` rejects (a head that does not fit its backbone), is
invalid and never trained. Parameters and megabytes come from the layer
description (`model_summary.summarize`), not from a formula of this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from dsiam_jax.errors import ConfigError
from dsiam_jax.model_summary import summarize
from dsiam_jax.models.spec import ModelSpec, SpecError, scaled_channels
from dsiam_jax.models.structure import structure

# SPEC section 3: the discrete shrink ratios.
RATIOS = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclasses.dataclass(frozen=True)
class PrunableLayer:
    """The state of one layer as the policy sees it (SPEC: kind, kernel, stride, width, groups).

    Attributes:
      name: 'conv1' .. 'conv5' or 'head'.
      kind: 'conv' (backbone) or 'head' (the RPN head's feature width).
      kernel, stride, groups: of the teacher's layer.
      out_channels: the teacher's width, which the ratio shrinks.
    """

    name: str
    kind: str
    kernel: int
    stride: int
    out_channels: int
    groups: int


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One student of the search: its actions, widths and size.

    Attributes:
      actions: index into the ratio set per prunable layer.
      ratios: the ratios those indices pick.
      channels: the five conv widths.
      head_channels: the RPN head width (0 for SiamFC).
      spec: the student's `ModelSpec`, or None when invalid.
      invalid_reason: why the candidate cannot be built ('' when valid).
      params: trainable parameters (0 when invalid).
      megabytes: fp32 MB of those parameters (0 when invalid).
      compression: C = 1 - params / teacher params (0 when invalid).
    """

    actions: tuple[int, ...]
    ratios: tuple[float, ...]
    channels: tuple[int, ...]
    head_channels: int
    spec: ModelSpec | None
    invalid_reason: str
    params: int
    megabytes: float
    compression: float

    @property
    def valid(self) -> bool:
        return self.spec is not None

    @property
    def key(self) -> str:
        """A file-name-safe identity of the channel list ('16-32-48-48-32', '..._h64')."""
        key = "-".join(str(c) for c in self.channels)
        return f"{key}_h{self.head_channels}" if self.head_channels else key


def validate_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
    """The ratio set as floats in (0, 1], sorted and distinct; a `ConfigError` otherwise."""
    out = tuple(sorted({float(r) for r in ratios}))
    if not out or out[0] <= 0 or out[-1] > 1:
        raise ConfigError(f"search.ratios={tuple(ratios)}: need ratios in (0, 1]")
    return out


def prunable_layers(teacher: ModelSpec) -> tuple[PrunableLayer, ...]:
    """The teacher's layers an action shrinks: conv1..conv5, and the head for SiamRPN."""
    layers = [
        PrunableLayer(c.path[-1], "conv", c.kernel, c.stride, c.out_channels, c.groups)
        for c in structure(teacher).backbone
    ]
    if teacher.kind == "siamrpn":
        layers.append(PrunableLayer("head", "head", 3, 1, teacher.rpn_channels, 1))
    return tuple(layers)


def teacher_params(teacher: ModelSpec) -> int:
    """Trainable parameters of the teacher (the denominator of the compression)."""
    return int(summarize(teacher)["params"])


def candidate_from_widths(
    teacher: ModelSpec,
    channels: Sequence[int],
    head_channels: int = 0,
    actions: Sequence[int] = (),
    ratios: Sequence[float] = (),
) -> Candidate:
    """A candidate with the given widths (validity, params, MB, compression)."""
    channels, head_channels = tuple(int(c) for c in channels), int(head_channels)
    common = dict(
        actions=tuple(int(a) for a in actions),
        ratios=tuple(float(r) for r in ratios),
        channels=channels,
        head_channels=head_channels,
    )
    try:
        spec = teacher.replace(channels=channels, head_channels=head_channels)
    except SpecError as e:
        return Candidate(
            **common, spec=None, invalid_reason=str(e), params=0, megabytes=0.0, compression=0.0
        )
    summary = summarize(spec)
    params = int(summary["params"])
    return Candidate(
        **common,
        spec=spec,
        invalid_reason="",
        params=params,
        megabytes=float(summary["megabytes"]),
        compression=1.0 - params / teacher_params(teacher),
    )


def candidate_from_actions(
    teacher: ModelSpec,
    actions: Sequence[int],
    ratios: Sequence[float] = RATIOS,
    multiple: int = 2,
) -> Candidate:
    """The candidate that `actions` (one ratio index per prunable layer) make of `teacher`."""
    layers = prunable_layers(teacher)
    actions = tuple(int(a) for a in actions)
    if len(actions) != len(layers):
        raise ValueError(f"{len(actions)} actions for {len(layers)} prunable layers")
    picked = tuple(ratios[a] for a in actions)
    widths = scaled_channels([layer.out_channels for layer in layers], picked, multiple)
    head = widths[5] if teacher.kind == "siamrpn" else 0
    return candidate_from_widths(teacher, widths[:5], head, actions, picked)


def uniform_candidate(teacher: ModelSpec, params: int, multiple: int = 2) -> Candidate:
    """The uniformly shrunk student (one ratio for every layer) whose size is closest to
    `params`: bisection on the continuous ratio, then the nearer of the two ends."""
    n = len(prunable_layers(teacher))
    widths = [layer.out_channels for layer in prunable_layers(teacher)]

    def make(r: float) -> Candidate:
        w = scaled_channels(widths, (r,) * n, multiple)
        return candidate_from_widths(teacher, w[:5], w[5] if n == 6 else 0, (), (r,) * n)

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if make(mid).params < params:
            lo = mid
        else:
            hi = mid
    return min((make(lo), make(hi)), key=lambda c: (abs(c.params - params), c.params))
