"""The reward of a candidate student (SPEC section 3, N2N).

    R = C (2 - C) * A_s / A_t,   C = 1 - params_student / params_teacher

A_s, A_t: the proxy accuracy (success AUC on the validation split) of the student
and the teacher. An invalid candidate gets R = -1 (`INVALID_REWARD`).

Beyond the paper (both off by default):
- a speed term: with a target of `target_fps` frames/s (whole tracking step on the
  deployment runtime), a candidate below it has its reward multiplied by
  `(fps / target_fps) ** speed_weight`; at or above the target nothing changes.
  A latency budget of L ms is the target 1000 / L.
- constraints: a candidate over `max_megabytes`, under `min_compression` or under
  `min_fps` gets -1, like an invalid one (size constraints are checked before its
  proxy run, so it costs nothing).
"""

from __future__ import annotations

import dataclasses

from dsiam_jax.errors import ConfigError

INVALID_REWARD = -1.0


@dataclasses.dataclass(frozen=True)
class RewardSettings:
    """Speed term and constraints of the reward; 0 switches each off.

    Attributes:
      target_fps: frames/s target of the speed term (0 = no speed term).
      speed_weight: exponent of the speed factor (fps / target_fps) below the target.
      max_megabytes: largest allowed fp32 size in MB (0 = no limit).
      min_compression: smallest allowed C (0 = no limit).
      min_fps: smallest allowed measured frames/s (0 = no limit).
    """

    target_fps: float = 0.0
    speed_weight: float = 1.0
    max_megabytes: float = 0.0
    min_compression: float = 0.0
    min_fps: float = 0.0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ConfigError(f"search.{f.name}={getattr(self, f.name)} must be >= 0")
        if self.min_compression >= 1:
            raise ConfigError(f"search.min_compression={self.min_compression} must be < 1")

    @property
    def needs_fps(self) -> bool:
        """The reward uses the measured frames/s."""
        return self.target_fps > 0 or self.min_fps > 0


def compression(student_params: int, teacher_params: int) -> float:
    """C = 1 - params_student / params_teacher."""
    if teacher_params <= 0:
        raise ValueError(f"teacher params {teacher_params} must be positive")
    return 1.0 - student_params / teacher_params


def n2n_reward(compression_: float, student_accuracy: float, teacher_accuracy: float) -> float:
    """R = C (2 - C) * A_s / A_t (N2N's reward)."""
    if teacher_accuracy <= 0:
        raise ValueError(f"teacher accuracy {teacher_accuracy} must be positive")
    return compression_ * (2.0 - compression_) * student_accuracy / teacher_accuracy


def size_violation(megabytes: float, compression_: float, settings: RewardSettings) -> str:
    """Why a candidate of this size breaks a constraint ('' when it does not)."""
    if settings.max_megabytes and megabytes > settings.max_megabytes:
        return f"{megabytes:.3f} MB > search.max_megabytes={settings.max_megabytes}"
    if settings.min_compression and compression_ < settings.min_compression:
        return f"compression {compression_:.3f} < search.min_compression={settings.min_compression}"
    return ""


def reward(
    compression_: float,
    student_accuracy: float,
    teacher_accuracy: float,
    settings: RewardSettings = RewardSettings(),
    fps: float | None = None,
) -> float:
    """The reward of a valid candidate that meets the size constraints: N2N's reward
    times the speed factor, or -1 when `fps` is under `min_fps`."""
    if settings.needs_fps and fps is None:
        raise ValueError("the speed term / min_fps need the measured frames/s")
    if settings.min_fps and fps < settings.min_fps:
        return INVALID_REWARD
    r = n2n_reward(compression_, student_accuracy, teacher_accuracy)
    if settings.target_fps and fps < settings.target_fps:
        r *= (fps / settings.target_fps) ** settings.speed_weight
    return r
