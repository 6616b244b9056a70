"""Tracker networks: AlexNet backbone, Siamese heads, and the pure forward functions."""

from dsiam_jax.models.siamese import (
    SiameseNet,
    build,
    forward,
    head,
    init_variables,
    num_params,
    numpy_variables,
    search_branch,
    template_branch,
)
from dsiam_jax.models.spec import ModelSpec, SpecError, teacher_spec

__all__ = [
    "ModelSpec",
    "SiameseNet",
    "SpecError",
    "build",
    "forward",
    "head",
    "init_variables",
    "num_params",
    "numpy_variables",
    "search_branch",
    "teacher_spec",
    "template_branch",
]
