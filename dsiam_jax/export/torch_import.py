"""PyTorch state_dicts of pysot / siamfc-pytorch / DaSiamRPN trackers -> dsiam_jax variables.

Works on a plain `{key: numpy array}` dict (torch itself is only needed to read a
`.pth` file: `load_state_dict`). Formats:

- `pysot_alexnet`: pysot `siamrpn_alex_dwxcorr` (AlexNet + DepthwiseRPN). Keys
  `backbone.layer{1-5}.0.{weight,bias}` (conv), `backbone.layer{1-5}.1.*`
  (BatchNorm, also after conv5), or the legacy `backbone.features.{0,4,8,11,14}` /
  `.{1,5,9,12,15}`; `rpn_head.{cls,loc}.conv_kernel.{0,1}`, `.conv_search.{0,1}`,
  `.head.{0,1,3}` (1x1 conv, BN, 1x1 conv with bias). pysot feeds BGR images in
  0..255, so conv1's input channels are reversed here: our RGB input then gives
  the same numbers. Channel widths, head width and anchor count come from the
  weight shapes (any `width_mult`); k must be 5 (ratios 0.33, 0.5, 1, 2, 3; scale 8).
- `siamfc_alexnet`: siamfc-pytorch `Net(AlexNetV1, SiamFC(out_scale=0.001))`. Keys
  `backbone.conv{1-5}.0.{weight,bias}`, `backbone.conv{1-4}.1.*` (BatchNorm,
  eps 1e-6); groups come from the weight shapes (1, 2, 1, 2, 2). RGB input, no
  flip; the head has no parameters (our response bias is set to 0).
  AlexNetV3 (BN after conv5) is read too; AlexNetV2 (max-pool stride 1) is not.
- `dasiamrpn_big`: DaSiamRPN's `SiamRPNBIG` (foolwood/DaSiamRPN `code/net.py`,
  `SiamRPNBIG.model`): AlexNet 192-512-768-768-512 + up-channel RPN, 512-wide head,
  k = 5, the paper's 361.8 MB teacher (widths checked). `dasiamrpn`: the same
  layout at any width (`SiamRPNvot` / `SiamRPNotb`: 96-256-384-384-256, head 256),
  widths read from the weight shapes. Keys `featureExtract.{0,4,8,11,14}` (conv),
  `.{1,5,9,12,15}` (BatchNorm, eps 1e-5, also after conv5); `conv_cls1` / `conv_r1`
  (template -> 2k / 4k banks of `feature_out`-channel kernels, out channel
  = bank * feature_out + channel, as our `UpChannelRPN`), `conv_cls2` / `conv_r2`
  (search), `regress_adjust` (1x1 on the reg map). Their outputs are read as
  class * k + anchor and coord * k + anchor (`view(2, -1)` / `view(4, -1)` of the
  `[2k, R, R]` / `[4k, R, R]` maps), anchors ratio-major (0.33, 0.5, 1, 2, 3; scale
  8): our layout, so no channel is reordered. Their blocks 1-2 run max-pool before
  ReLU, ours ReLU before max-pool: the same function (both are monotone, so they
  commute). BGR 0..255 input (cv2 frames, not normalised): conv1 is flipped.
  Our up-channel template convs multiply their output by a fixed 1/sqrt(16 C)
  (`ConvLayer.output_scale`), theirs do not: `conv_cls1` / `conv_r1` weights and
  biases are divided by it on import, so the imported model computes theirs.

Layouts: torch conv weight OIHW -> our HWIO (`transpose(2, 3, 1, 0)`); BatchNorm
`weight/bias/running_mean/running_var` -> `scale/bias` + batch_stats `mean/var`;
`num_batches_tracked` is ignored. A `module.` prefix (DataParallel) and a
`{'state_dict': ...}` / `{'model': ...}` wrapper are accepted. Missing or
unexpected keys raise `TorchImportError` listing them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from dsiam_jax.errors import InputFileError, UserError
from dsiam_jax.models.spec import SIAMRPN_ALEXNET_CHANNELS, ModelSpec
from dsiam_jax.models.structure import structure

FORMATS = ("pysot_alexnet", "siamfc_alexnet", "dasiamrpn_big", "dasiamrpn")
DASIAMRPN_FORMATS = ("dasiamrpn_big", "dasiamrpn")
BGR_FORMATS = ("pysot_alexnet", *DASIAMRPN_FORMATS)  # conv1 input channels reversed
PYSOT_RATIOS = (0.33, 0.5, 1.0, 2.0, 3.0)
_BN = ("weight", "bias", "running_mean", "running_var")
_OPTIONAL = "num_batches_tracked"
# nn.Sequential indices (conv, BatchNorm) of pysot's legacy `features` and DaSiamRPN's
# `featureExtract`.
_LEGACY = {1: (0, 1), 2: (4, 5), 3: (8, 9), 4: (11, 12), 5: (14, 15)}
# Our UpChannelRPN conv -> DaSiamRPN's conv (all with bias).
DASIAMRPN_HEAD = {
    "cls_template": "conv_cls1",
    "reg_template": "conv_r1",
    "cls_search": "conv_cls2",
    "reg_search": "conv_r2",
    "reg_adjust": "regress_adjust",
}
SIAMRPNBIG_HEAD_WIDTH = 512  # DaSiamRPN SiamRPNBIG feature_out


class TorchImportError(UserError, ValueError):
    """A state_dict that does not match the chosen format (names the keys)."""


def load_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a `.pth` file with torch (CPU, weights only) into NumPy arrays."""
    try:
        import torch
    except ImportError as e:
        raise TorchImportError(
            "reading a .pth checkpoint needs PyTorch: pip install 'dsiam_jax[torch]'"
        ) from e
    if not os.path.isfile(path):
        raise InputFileError(f"config.torch_checkpoint={str(path)!r}: no such file")
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # truncated / not a torch file: torch raises many types
        raise TorchImportError(f"cannot read {path} as a PyTorch checkpoint: {e}") from e
    return {k: v.detach().cpu().numpy() for k, v in unwrap(obj).items() if hasattr(v, "numpy")}


def unwrap(obj: Any) -> Mapping[str, Any]:
    """The state_dict inside a checkpoint object (plain, 'state_dict' or 'model')."""
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
        return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}
    raise TorchImportError(f"expected a state_dict (a mapping), got {type(obj).__name__}")


def _bn_keys(prefix: str) -> list[str]:
    return [f"{prefix}.{n}" for n in _BN]


def backbone_layers(fmt: str, state: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(conv prefix, BatchNorm prefix or None) of the five AlexNet convs of `fmt`."""
    if fmt == "pysot_alexnet":
        if any(k.startswith("backbone.features.") for k in state):
            return [
                (f"backbone.features.{c}", f"backbone.features.{b}") for c, b in _LEGACY.values()
            ]
        return [(f"backbone.layer{i}.0", f"backbone.layer{i}.1") for i in range(1, 6)]
    if fmt in DASIAMRPN_FORMATS:
        return [(f"featureExtract.{c}", f"featureExtract.{b}") for c, b in _LEGACY.values()]
    if fmt == "siamfc_alexnet":
        final_bn = "backbone.conv5.1.weight" in state
        return [
            (f"backbone.conv{i}.0", f"backbone.conv{i}.1" if i < 5 or final_bn else None)
            for i in range(1, 6)
        ]
    raise TorchImportError(f"config.torch_format={fmt!r}: expected one of {FORMATS}")


def expected_keys(fmt: str, state: Mapping[str, Any]) -> list[str]:
    """The keys a state_dict of `fmt` must have (`num_batches_tracked` optional)."""
    keys: list[str] = []
    for conv, bn in backbone_layers(fmt, state):
        keys += [f"{conv}.weight", f"{conv}.bias", *(_bn_keys(bn) if bn else [])]
    if fmt == "pysot_alexnet":
        for branch in ("cls", "loc"):
            p = f"rpn_head.{branch}"
            for part in ("conv_kernel", "conv_search"):
                keys += [f"{p}.{part}.0.weight", *_bn_keys(f"{p}.{part}.1")]
            keys += [f"{p}.head.0.weight", *_bn_keys(f"{p}.head.1")]
            keys += [f"{p}.head.3.weight", f"{p}.head.3.bias"]
    if fmt in DASIAMRPN_FORMATS:
        keys += [f"{conv}.{n}" for conv in DASIAMRPN_HEAD.values() for n in ("weight", "bias")]
    return keys


def check_keys(fmt: str, state: Mapping[str, Any]) -> None:
    """Raises `TorchImportError` listing missing and unexpected keys."""
    expected = expected_keys(fmt, state)
    optional = {
        k[: -len("running_mean")] + _OPTIONAL for k in expected if k.endswith("running_mean")
    }
    missing = [k for k in expected if k not in state]
    unexpected = sorted(k for k in state if k not in set(expected) | optional)
    if missing or unexpected:

        def show(keys):
            more = f", ... ({len(keys)} in all)" if len(keys) > 12 else ""
            return ", ".join(keys[:12]) + more

        raise TorchImportError(
            f"state_dict does not match torch_format={fmt!r}: "
            f"missing keys [{show(missing)}]; unexpected keys [{show(unexpected)}]"
        )


def _conv(state, key: str, flip_rgb: bool = False) -> dict[str, np.ndarray]:
    w = np.asarray(state[f"{key}.weight"], np.float32)
    if w.ndim != 4:
        raise TorchImportError(f"{key}.weight: expected a 4-d conv weight, got shape {w.shape}")
    if flip_rgb:
        w = w[:, ::-1]
    out = {"kernel": np.ascontiguousarray(w.transpose(2, 3, 1, 0))}
    if f"{key}.bias" in state:
        out["bias"] = np.asarray(state[f"{key}.bias"], np.float32)
    return out


def _bn(state, key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    f = lambda n: np.asarray(state[f"{key}.{n}"], np.float32)
    return {"scale": f("weight"), "bias": f("bias")}, {
        "mean": f("running_mean"),
        "var": f("running_var"),
    }


def convert(fmt: str, state: Mapping[str, Any]) -> tuple[ModelSpec, dict[str, Any]]:
    """(spec, variables) of a state_dict in format `fmt` (keys checked first)."""
    check_keys(fmt, state)
    params: dict[str, Any] = {"backbone": {}}
    stats: dict[str, Any] = {"backbone": {}}
    channels, groups = [], []
    cin = 3
    layers = backbone_layers(fmt, state)
    for i, (conv_key, bn_key) in enumerate(layers, start=1):
        conv = _conv(state, conv_key, flip_rgb=(fmt in BGR_FORMATS and i == 1))
        k = conv["kernel"]  # [kh, kw, in / groups, out]
        if cin % k.shape[2]:
            raise TorchImportError(
                f"{conv_key}.weight has {k.shape[2]} input channels per group: "
                f"does not divide the {cin} channels of the layer before"
            )
        channels.append(int(k.shape[3]))
        groups.append(cin // int(k.shape[2]))
        cin = int(k.shape[3])
        params["backbone"][f"conv{i}"] = conv
        if bn_key:
            params["backbone"][f"bn{i}"], stats["backbone"][f"bn{i}"] = _bn(state, bn_key)
    final_bn = layers[4][1] is not None
    if fmt == "siamfc_alexnet":
        spec = ModelSpec(
            channels=tuple(channels), groups=tuple(groups), final_bn=final_bn, bn_eps=1e-6
        )
        params["head"] = {"bias": np.zeros((), np.float32)}
        return spec, {"params": params, "batch_stats": stats}
    if fmt in DASIAMRPN_FORMATS:
        spec, params["head"] = _dasiamrpn_head(fmt, state, tuple(channels), tuple(groups))
        return spec, {"params": params, "batch_stats": stats}
    head_p: dict[str, Any] = {}
    head_s: dict[str, Any] = {}
    for ours, theirs in (("cls", "cls"), ("reg", "loc")):
        p = f"rpn_head.{theirs}"
        hp, hs = {}, {}
        hp["conv_kernel"] = _conv(state, f"{p}.conv_kernel.0")
        hp["bn_kernel"], hs["bn_kernel"] = _bn(state, f"{p}.conv_kernel.1")
        hp["conv_search"] = _conv(state, f"{p}.conv_search.0")
        hp["bn_search"], hs["bn_search"] = _bn(state, f"{p}.conv_search.1")
        hp["head1"] = _conv(state, f"{p}.head.0")
        hp["bn_head"], hs["bn_head"] = _bn(state, f"{p}.head.1")
        hp["head2"] = _conv(state, f"{p}.head.3")
        head_p[ours], head_s[ours] = hp, hs
    k2 = head_p["cls"]["head2"]["kernel"].shape[-1]
    if k2 != 2 * len(PYSOT_RATIOS):
        raise TorchImportError(
            f"rpn_head.cls.head.3 has {k2} outputs: expected 2 x {len(PYSOT_RATIOS)} anchors"
        )
    spec = ModelSpec(
        kind="siamrpn",
        head="depthwise",
        channels=tuple(channels),
        groups=tuple(groups),
        head_channels=int(head_p["cls"]["conv_kernel"]["kernel"].shape[-1]),
        anchor_ratios=PYSOT_RATIOS,
        anchor_scales=(8.0,),
        final_bn=True,
        bn_eps=1e-5,
    )
    params["head"], stats["head"] = head_p, head_s
    return spec, {"params": params, "batch_stats": stats}


def _dasiamrpn_head(
    fmt: str, state: Mapping[str, Any], channels: tuple[int, ...], groups: tuple[int, ...]
) -> tuple[ModelSpec, dict[str, Any]]:
    """(spec, head params) of DaSiamRPN's up-channel head; shapes checked against k = 5."""
    head = {ours: _conv(state, theirs) for ours, theirs in DASIAMRPN_HEAD.items()}
    width = int(head["cls_search"]["kernel"].shape[-1])  # their feature_out
    k, cin = len(PYSOT_RATIOS), channels[-1]
    want = {  # torch order (out, in, kh, kw)
        "cls_template": (2 * k * width, cin, 3, 3),
        "reg_template": (4 * k * width, cin, 3, 3),
        "cls_search": (width, cin, 3, 3),
        "reg_search": (width, cin, 3, 3),
        "reg_adjust": (4 * k, 4 * k, 1, 1),
    }
    for ours, shape in want.items():
        got = tuple(np.shape(state[f"{DASIAMRPN_HEAD[ours]}.weight"]))
        if got != shape:
            raise TorchImportError(
                f"{DASIAMRPN_HEAD[ours]}.weight has shape {got}: expected {shape} "
                f"(feature_out {width} from conv_cls2, {k} anchors, conv5 width {cin})"
            )
    if fmt == "dasiamrpn_big" and (channels, width) != (
        SIAMRPN_ALEXNET_CHANNELS,
        SIAMRPNBIG_HEAD_WIDTH,
    ):
        raise TorchImportError(
            f"torch_format='dasiamrpn_big' expects SiamRPNBIG (channels "
            f"{list(SIAMRPN_ALEXNET_CHANNELS)}, feature_out {SIAMRPNBIG_HEAD_WIDTH}); this "
            f"file has channels {list(channels)}, feature_out {width}: use "
            "torch_format=dasiamrpn (SiamRPNvot / SiamRPNotb or any width)"
        )
    spec = ModelSpec(
        kind="siamrpn",
        head="upchannel",
        channels=channels,
        groups=groups,
        head_channels=0 if width == cin else width,
        anchor_ratios=PYSOT_RATIOS,
        anchor_scales=(8.0,),
        final_bn=True,
        bn_eps=1e-5,
    )
    for layer in structure(spec).convs:  # our fixed output factor: theirs is 1
        if layer.output_scale != 1.0:
            conv = head[layer.path[-1]]  # ('head', 'cls_template')
            for name in ("kernel", "bias"):
                conv[name] = (conv[name] / np.float32(layer.output_scale)).astype(np.float32)
    return spec, head


def check_against_model(spec: ModelSpec, variables: Mapping[str, Any]) -> None:
    """Raises `TorchImportError` unless `variables` has exactly our model's tree and shapes."""
    import jax

    from dsiam_jax import models

    model = models.build(spec)
    target = jax.eval_shape(lambda: models.init_variables(model, jax.random.PRNGKey(0)))
    want = {
        jax.tree_util.keystr(p): tuple(x.shape)
        for p, x in jax.tree_util.tree_leaves_with_path(target)
    }
    got = {
        jax.tree_util.keystr(p): tuple(np.shape(x))
        for p, x in jax.tree_util.tree_leaves_with_path(dict(variables))
    }
    if want != got:
        bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        details = [f"{k}: ours {want.get(k)} vs imported {got.get(k)}" for k in bad[:8]]
        raise TorchImportError("imported weights do not fit the model: " + "; ".join(details))
