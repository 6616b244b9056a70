"""The Siamese tracker network and the pure functions over its variables.

`build(spec)` gives the Flax Linen module `SiameseNet` (its layers:
`structure(spec)`; its computations: a `Lowering`); everything else in the project
calls the pure functions below with an explicit variables tree
(`{'params': ..., 'batch_stats': ...}`):

- `template_branch(model, variables, z)`: template crop `[B, 127, 127, 3]` ->
  kernels (run once per sequence when tracking),
- `search_branch(model, variables, x)`: search crop `[B, 255, 255, 3]` ->
  backbone feature `[B, 22, 22, C]`,
- `head(model, variables, kernels, xf)`: -> `{'response': [B, 17, 17]}` (SiamFC)
  or `{'cls': [B, 17, 17, 2k], 'reg': [B, 17, 17, 4k]}` (SiamRPN),
- `forward(...)`: all three, plus `'features'` (the search feature) in the output;
  with `train=True` it also returns the updated BatchNorm statistics.

Images are NHWC in 0..255 (uint8 or float32), RGB, not normalised.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.errors import ConfigError
from dsiam_jax.models.alexnet import AlexNet
from dsiam_jax.models.heads import Head
from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import structure

Variables = dict[str, Any]
COMPUTE_DTYPES = ("float32", "bfloat16")


class SiameseNet(nn.Module):
    """Backbone shared by both branches, plus the spec's head (layers: `structure(spec)`).

    `lowering` picks how the convs and correlations are computed (speed only).
    """

    spec: ModelSpec
    lowering: Lowering
    # Training only: mesh axis for cross-device BatchNorm statistics (inside shard_map),
    # and the train-mode variance formula (see AlexNet.bn_fast_variance).
    bn_axis_name: str | None = None
    bn_fast_variance: bool = True
    # Compute dtype of convs, correlations and activations: 'float32' | 'bfloat16'.
    # Parameters and BatchNorm statistics stay float32, and the head's outputs and
    # the returned features are float32 (losses and trackers work in float32).
    compute_dtype: str = "float32"
    # Training only: the first backbone layers kept fixed (`AlexNet.frozen`).
    frozen_convs: int = 0

    def setup(self):
        s, layers = self.spec, structure(self.spec)
        bn = dict(
            bn_eps=s.bn_eps,
            bn_axis_name=self.bn_axis_name,
            bn_fast_variance=self.bn_fast_variance,
            dtype=jnp.dtype(self.compute_dtype),
        )
        self.backbone = AlexNet(layers.backbone, self.lowering, **bn, frozen=self.frozen_convs)
        self.head = Head(layers, self.lowering, **bn)

    def template_branch(self, z: jax.Array, train: bool = False, conv1: jax.Array | None = None):
        return self.head.template(self.backbone(z, train, conv1), train)

    def search_branch(
        self, x: jax.Array, train: bool = False, conv1: jax.Array | None = None
    ) -> jax.Array:
        return self.backbone(x, train, conv1)

    def head_forward(self, kernels, xf: jax.Array, train: bool = False) -> dict:
        out = self.head(kernels, xf, train)
        return {k: v.astype(jnp.float32) for k, v in out.items()}

    def __call__(
        self, z: jax.Array, x: jax.Array, train: bool = False, conv1: tuple | None = None
    ) -> dict:
        """`conv1`: (template, search) conv1 outputs without bias computed outside
        (`alexnet.shared_conv1`), or None."""
        zc, xc = conv1 if conv1 is not None else (None, None)
        kernels = self.template_branch(z, train, zc)
        xf = self.search_branch(x, train, xc)
        return {**self.head_forward(kernels, xf, train), "features": xf.astype(jnp.float32)}


def build(
    spec: ModelSpec,
    xcorr_impl: str | None = None,
    conv1_split: int | str | None = None,
    bn_axis_name: str | None = None,
    bn_fast_variance: bool = True,
    *,
    lowering: Lowering | None = None,
    compute_dtype: str = "float32",
    frozen_convs: int = 0,
) -> SiameseNet:
    """The Linen module for `spec`.

    `lowering` is the job's choice of equal computations (speed only, not stored in
    checkpoints; default `Lowering.for_backend()`); `xcorr_impl` / `conv1_split`
    force one of its fields. Train mode only: `bn_axis_name` (inside `shard_map`)
    makes BatchNorm use statistics over that mesh axis, and `bn_fast_variance=False`
    computes the batch variance without cancellation. `compute_dtype` ('float32' |
    'bfloat16') is the precision of convs and activations (not a lowering: bfloat16
    changes the numbers; parameters stay float32). Train mode only: the first
    `frozen_convs` backbone layers are a fixed function (`AlexNet.frozen`).
    """
    if compute_dtype not in COMPUTE_DTYPES:
        raise ConfigError(f"compute_dtype={compute_dtype!r}: expected one of {COMPUTE_DTYPES}")
    lowering = lowering or Lowering.for_backend()
    lowering = lowering.replace(xcorr_impl=xcorr_impl, conv1_split=conv1_split)
    return SiameseNet(spec, lowering, bn_axis_name, bn_fast_variance, compute_dtype, frozen_convs)


def init_variables(
    model: SiameseNet, rng: jax.Array, template_size: int = 127, search_size: int = 255
) -> Variables:
    """Random initial variables (`params` and, with BatchNorm, `batch_stats`)."""
    z = jnp.zeros((1, template_size, template_size, 3), jnp.float32)
    x = jnp.zeros((1, search_size, search_size, 3), jnp.float32)
    return dict(model.init(rng, z, x))


def numpy_variables(
    spec: ModelSpec, seed: int = 0, random_batchnorm: bool = False
) -> dict[str, Any]:
    """Random variables drawn with NumPy from the shapes alone (no XLA compile).

    He-normal conv kernels; zero biases and identity BatchNorm, or with
    `random_batchnorm` random statistics, affine terms and biases (so that BatchNorm
    folding and bias handling matter in a test). Flax's initialisers compile for
    about a second per shape on a 2-core CPU; this takes milliseconds, which keeps
    tests and benchmarks of untrained networks fast.
    """
    model = build(spec)
    shapes = jax.eval_shape(lambda: init_variables(model, jax.random.PRNGKey(0)))
    rng = np.random.default_rng(seed)

    def draw(path, leaf) -> np.ndarray:
        name, shape = path[-1].key, leaf.shape
        if name == "kernel":
            return rng.normal(0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
        if not random_batchnorm:
            return np.ones(shape) if name in ("var", "scale") else np.zeros(shape)
        if name == "var":
            return rng.uniform(0.5, 2.0, shape)
        if name == "scale":
            return rng.uniform(0.5, 1.5, shape)
        return rng.normal(0, 0.3 if name == "mean" else 0.1, shape)  # means, biases

    return jax.tree_util.tree_map_with_path(
        lambda p, leaf: draw(p, leaf).astype(np.float32), shapes
    )


def template_branch(model: SiameseNet, variables: Variables, z: jax.Array):
    """Template crops `[B, 127, 127, 3]` -> the head's kernels (inference mode)."""
    return model.apply(variables, z, method=SiameseNet.template_branch)


def search_branch(model: SiameseNet, variables: Variables, x: jax.Array) -> jax.Array:
    """Search crops `[B, 255, 255, 3]` -> backbone features `[B, 22, 22, C]`."""
    return model.apply(variables, x, method=SiameseNet.search_branch)


def head(model: SiameseNet, variables: Variables, kernels, xf: jax.Array) -> dict:
    """Kernels and search features -> response map or cls/reg maps (inference mode)."""
    return model.apply(variables, kernels, xf, method=SiameseNet.head_forward)


def forward(
    model: SiameseNet,
    variables: Variables,
    z: jax.Array,
    x: jax.Array,
    train: bool = False,
    conv1: tuple[jax.Array, jax.Array] | None = None,
):
    """Whole network on template/search pairs.

    Returns the output dict (`response` or `cls`/`reg`, plus `features`); with
    `train=True`, returns `(outputs, new_batch_stats)` with BatchNorm in batch mode.
    `conv1`: the (template, search) conv1 outputs without bias, computed together with
    other networks' (`alexnet.shared_conv1`); None computes them here.
    """
    if not train:
        return model.apply(variables, z, x, conv1=conv1)
    outputs, updates = model.apply(
        variables, z, x, train=True, conv1=conv1, mutable=["batch_stats"]
    )
    return outputs, updates.get("batch_stats", {})


def num_params(tree) -> int:
    """Number of scalars in a pytree of arrays."""
    return int(sum(x.size for x in jax.tree_util.tree_leaves(tree)))
