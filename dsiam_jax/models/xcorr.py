"""Siamese cross-correlation: per-example convolutions, vmapped over the batch.

The definition (`impl='vmap'`) is a convolution of one example's search feature
with that example's own template, `jax.vmap`-ed over the batch. XLA lowers a
vmapped conv to one grouped conv (feature_group_count = batch): fine on GPU/TPU,
but slow on XLA:CPU. Equal lowerings, tested against the same NumPy loop:

- `'map'`: the same per-example conv under `lax.map` (a loop of ordinary convs).
- `'shift'`: a sum over template offsets of shifted search slices times the
  template column (no conv at all).
- `'taps'`: one matrix product of the search feature with every template column
  (the channel contraction, `[B, hx, wx, C] x [C, hz*wz]`), then a sum of shifted
  slices of that product, one per offset (a single XLA loop fusion). The depth-wise
  correlation has no channel contraction: its 'taps' is 'shift'.

Which one a job uses is its `Lowering` (`dsiam_jax.models.lowering`, with the
measurements: `taps` / `shift` on CPU, `vmap` elsewhere); the model passes its
choice as `impl`, and 'auto' asks `Lowering.for_backend()`. A template batch of
1 against S search crops (a scale pyramid) broadcasts the template: an ordinary
batched conv in every lowering.

Layouts are NHWC: templates `[B, hz, wz, C]`, search features `[B, hx, wx, C]`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from dsiam_jax.models.lowering import XCORR_IMPLS, Lowering

IMPLS = XCORR_IMPLS

_DIMS = ("NHWC", "HWIO", "NHWC")
_HIGHEST = lax.Precision.HIGHEST


def _conv(x: jax.Array, kernel: jax.Array, groups: int = 1) -> jax.Array:
    """VALID stride-1 conv of one image `[hx, wx, Cin]` with an HWIO kernel."""
    out = lax.conv_general_dilated(
        x[None],
        kernel,
        window_strides=(1, 1),
        padding="VALID",
        dimension_numbers=_DIMS,
        feature_group_count=groups,
        precision=_HIGHEST,
    )
    return out[0]


# Per-example definitions.
def xcorr_one(z: jax.Array, x: jax.Array) -> jax.Array:
    """SiamFC correlation of one example: z `[hz, wz, C]`, x `[hx, wx, C]` -> `[ho, wo]`."""
    return _conv(x, z[..., None])[..., 0]


def xcorr_upchannel_one(kernel: jax.Array, x: jax.Array) -> jax.Array:
    """Up-channel RPN correlation: kernel `[hz, wz, C, O]`, x `[hx, wx, C]` -> `[ho, wo, O]`."""
    return _conv(x, kernel)


def xcorr_depthwise_one(z: jax.Array, x: jax.Array) -> jax.Array:
    """Depthwise correlation: z `[hz, wz, C]`, x `[hx, wx, C]` -> `[ho, wo, C]`."""
    return _conv(x, z[:, :, None, :], groups=z.shape[-1])


# Shift-and-add lowerings over a batch (template batch B or 1).
def _shifted(z: jax.Array, x: jax.Array):
    """Yields (template column at offset u,v `[Bz, C...]`, search slice `[B, ho, wo, C]`)."""
    hz, wz = z.shape[1:3]
    ho, wo = x.shape[1] - hz + 1, x.shape[2] - wz + 1
    for u in range(hz):
        for v in range(wz):
            yield z[:, u, v], x[:, u : u + ho, v : v + wo, :]


def _xcorr_shift(z: jax.Array, x: jax.Array) -> jax.Array:
    spec = "bijc,c->bij" if z.shape[0] == 1 else "bijc,bc->bij"
    terms = (
        jnp.einsum(spec, xs, zc[0] if z.shape[0] == 1 else zc, precision=_HIGHEST)
        for zc, xs in _shifted(z, x)
    )
    return sum(terms)


def _upchannel_shift(k: jax.Array, x: jax.Array) -> jax.Array:
    spec = "bijc,co->bijo" if k.shape[0] == 1 else "bijc,bco->bijo"
    terms = (
        jnp.einsum(spec, xs, kc[0] if k.shape[0] == 1 else kc, precision=_HIGHEST)
        for kc, xs in _shifted(k, x)
    )
    return sum(terms)


def _depthwise_shift(z: jax.Array, x: jax.Array) -> jax.Array:
    return sum(xs * zc[:, None, None, :] for zc, xs in _shifted(z, x))


def _tap_sum(p: jax.Array, hz: int, wz: int) -> jax.Array:
    """Sum over offsets (u, v) of `p[:, u:u+ho, v:v+wo, u, v]`; p `[B, hx, wx, hz, wz, ...]`."""
    ho, wo = p.shape[1] - hz + 1, p.shape[2] - wz + 1
    return sum(p[:, u : u + ho, v : v + wo, u, v] for u in range(hz) for v in range(wz))


def _xcorr_taps(z: jax.Array, x: jax.Array) -> jax.Array:
    spec = "bhwc,uvc->bhwuv" if z.shape[0] == 1 else "bhwc,buvc->bhwuv"
    p = jnp.einsum(spec, x, z[0] if z.shape[0] == 1 else z, precision=_HIGHEST)
    return _tap_sum(p, *z.shape[1:3])  # [B, ho, wo]


def _upchannel_taps(k: jax.Array, x: jax.Array) -> jax.Array:
    spec = "bhwc,uvco->bhwuvo" if k.shape[0] == 1 else "bhwc,buvco->bhwuvo"
    p = jnp.einsum(spec, x, k[0] if k.shape[0] == 1 else k, precision=_HIGHEST)
    return _tap_sum(p, *k.shape[1:3])  # [B, ho, wo, O]


def resolve_impl(impl: str, op: str = "xcorr", backend: str | None = None) -> str:
    """The lowering `impl` stands for, for `op` on `backend` (default: JAX's default)."""
    if impl not in IMPLS:
        raise ValueError(f"xcorr impl={impl!r}: expected one of {IMPLS}")
    if impl != "auto":
        return impl
    return Lowering.for_backend(backend).xcorr(op)


def batched(
    one_fn: Callable[[jax.Array, jax.Array], jax.Array],
    z: jax.Array,
    x: jax.Array,
    impl: str,
    shift_fn: Callable[[jax.Array, jax.Array], jax.Array],
    op: str,
    taps_fn: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
) -> jax.Array:
    """Applies a per-example correlation over the batch with the chosen lowering."""
    if z.shape[0] != x.shape[0] and z.shape[0] != 1:
        raise ValueError(f"xcorr batch mismatch: template {z.shape} vs search {x.shape}")
    lowering = resolve_impl(impl, op)
    if lowering == "taps":
        return (taps_fn or shift_fn)(z, x)
    if lowering == "shift":
        return shift_fn(z, x)
    if z.shape[0] == 1 and x.shape[0] != 1:
        return jax.vmap(one_fn, in_axes=(None, 0))(z[0], x)
    if lowering == "vmap" or x.shape[0] == 1:
        return jax.vmap(one_fn)(z, x)
    return lax.map(lambda zx: one_fn(*zx), (z, x))


def xcorr(z: jax.Array, x: jax.Array, impl: str = "auto") -> jax.Array:
    """SiamFC cross-correlation: `[B, hz, wz, C]` x `[B, hx, wx, C]` -> `[B, ho, wo]`."""
    return batched(xcorr_one, z, x, impl, _xcorr_shift, "xcorr", _xcorr_taps)


def xcorr_upchannel(kernel: jax.Array, x: jax.Array, impl: str = "auto") -> jax.Array:
    """Up-channel: kernels `[B, hz, wz, C, O]` x `[B, hx, wx, C]` -> `[B, ho, wo, O]`."""
    return batched(
        xcorr_upchannel_one, kernel, x, impl, _upchannel_shift, "upchannel", _upchannel_taps
    )


def xcorr_depthwise(z: jax.Array, x: jax.Array, impl: str = "auto") -> jax.Array:
    """Depthwise: `[B, hz, wz, C]` x `[B, hx, wx, C]` -> `[B, ho, wo, C]`."""
    return batched(xcorr_depthwise_one, z, x, impl, _depthwise_shift, "depthwise")
