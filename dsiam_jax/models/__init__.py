"""Tracker networks: the layer description, AlexNet backbone, heads, and pure forward functions.

`dsiam_jax.models.structure.structure(spec)` describes a network's layers;
`Lowering` is a job's choice of equal computations; `TrackerModel` a named network
(spec + variables) ready to track.
"""

from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.siamese import (
    COMPUTE_DTYPES,
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
from dsiam_jax.models.spec import ModelSpec, SpecError, TrackerModel, teacher_spec
from dsiam_jax.models.structure import ConvLayer, HeadBranch, NetStructure

__all__ = [
    "COMPUTE_DTYPES",
    "ConvLayer",
    "HeadBranch",
    "Lowering",
    "ModelSpec",
    "NetStructure",
    "SiameseNet",
    "SpecError",
    "TrackerModel",
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
