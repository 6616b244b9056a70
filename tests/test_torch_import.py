"""PyTorch import: pysot SiamRPN AlexNet (depthwise head) and siamfc-pytorch AlexNetV1.

The PyTorch models here are our own minimal definitions with the same state_dict
keys as those projects (random weights and BatchNorm statistics); their forward
outputs must equal our JAX network's after import.
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from dsiam_jax import checkpoints, models
from dsiam_jax.export import torch_import

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

KERNELS = (11, 5, 3, 3, 3)
STRIDES = (2, 1, 1, 1, 1)
CHANNELS = (8, 16, 16, 16, 16)


def _randomize_bn(module: nn.Module, gen: torch.Generator) -> None:
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean.data = torch.randn(n, generator=gen) * 0.1
            m.running_var.data = torch.rand(n, generator=gen) + 0.5


def _layer(cin, cout, i, groups=1, bn=True, eps=1e-5):
    mods = [nn.Conv2d(cin, cout, KERNELS[i], STRIDES[i], groups=groups)]
    if bn:
        mods.append(nn.BatchNorm2d(cout, eps=eps))
    if i < 2:
        mods.append(nn.MaxPool2d(3, 2))
    if i < 4:
        mods.append(nn.ReLU())
    return nn.Sequential(*mods)


class PysotAlexNet(nn.Module):
    """Key layout of pysot's `alexnet` backbone: layer{1-5}.{0: conv, 1: BN}."""

    def __init__(self, channels):
        super().__init__()
        widths = (3, *channels)
        for i in range(5):
            setattr(self, f"layer{i + 1}", _layer(widths[i], widths[i + 1], i))

    def forward(self, x):
        for i in range(5):
            x = getattr(self, f"layer{i + 1}")(x)
        return x


def _depthwise_xcorr(search, kernel):
    b, c = kernel.shape[:2]
    out = F.conv2d(
        search.reshape(1, b * c, *search.shape[2:]),
        kernel.reshape(b * c, 1, *kernel.shape[2:]),
        groups=b * c,
    )
    return out.reshape(b, c, *out.shape[2:])


class DepthwiseBranch(nn.Module):
    """Key layout of pysot's DepthwiseXCorr: conv_kernel, conv_search, head.{0,1,3}."""

    def __init__(self, cin, hidden, out):
        super().__init__()
        self.conv_kernel = nn.Sequential(
            nn.Conv2d(cin, hidden, 3, bias=False), nn.BatchNorm2d(hidden), nn.ReLU()
        )
        self.conv_search = nn.Sequential(
            nn.Conv2d(cin, hidden, 3, bias=False), nn.BatchNorm2d(hidden), nn.ReLU()
        )
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(),
            nn.Conv2d(hidden, out, 1),
        )

    def forward(self, z, x):
        return self.head(_depthwise_xcorr(self.conv_search(x), self.conv_kernel(z)))


class PysotRPN(nn.Module):
    def __init__(self, cin, hidden, k=5):
        super().__init__()
        self.cls = DepthwiseBranch(cin, hidden, 2 * k)
        self.loc = DepthwiseBranch(cin, hidden, 4 * k)


class PysotModel(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.backbone = PysotAlexNet(channels)
        self.rpn_head = PysotRPN(channels[-1], hidden)

    def forward(self, z, x):
        zf, xf = self.backbone(z), self.backbone(x)
        return self.rpn_head.cls(zf, xf), self.rpn_head.loc(zf, xf)


class SiamFCAlexNetV1(nn.Module):
    """Key layout of siamfc-pytorch AlexNetV1: conv{1-5}.{0: conv, 1: BN}; no BN on conv5."""

    def __init__(self, channels, groups):
        super().__init__()
        widths = (3, *channels)
        for i in range(5):
            layer = _layer(widths[i], widths[i + 1], i, groups[i], bn=i < 4, eps=1e-6)
            setattr(self, f"conv{i + 1}", layer)

    def forward(self, x):
        for i in range(5):
            x = getattr(self, f"conv{i + 1}")(x)
        return x


class SiamFCNet(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.backbone = SiamFCAlexNetV1(channels, groups)

    def forward(self, z, x):
        zf, xf = self.backbone(z), self.backbone(x)
        out = torch.cat([F.conv2d(xf[i : i + 1], zf[i : i + 1]) for i in range(x.shape[0])])
        return out * 0.001


def _inputs(batch=2, search=255):
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 255, (batch, 127, 127, 3)).astype(np.float32)
    x = rng.uniform(0, 255, (batch, search, search, 3)).astype(np.float32)
    return z, x


def _nchw(a, bgr=False):
    a = a[..., ::-1] if bgr else a
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


def _state(net):
    return {k: v.numpy() for k, v in net.state_dict().items()}


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def _pysot_net():
    torch.manual_seed(0)
    net = PysotModel(CHANNELS, hidden=12)
    _randomize_bn(net, torch.Generator().manual_seed(1))
    return net.eval()


def test_pysot_alexnet_matches_torch_forward():
    net = _pysot_net()
    spec, variables = torch_import.convert("pysot_alexnet", _state(net))
    assert spec.kind == "siamrpn" and spec.head == "depthwise"
    assert spec.channels == CHANNELS and spec.groups == (1,) * 5 and spec.final_bn
    assert spec.rpn_channels == 12 and spec.num_anchors == 5
    torch_import.check_against_model(spec, variables)
    z, x = _inputs()
    with torch.no_grad():
        cls_t, loc_t = net(_nchw(z, bgr=True), _nchw(x, bgr=True))  # pysot reads BGR
    out = models.forward(models.build(spec), variables, z, x)
    assert _rel(np.asarray(out["cls"]), cls_t.numpy().transpose(0, 2, 3, 1)) < 1e-4
    assert _rel(np.asarray(out["reg"]), loc_t.numpy().transpose(0, 2, 3, 1)) < 1e-4


def test_pysot_legacy_key_layout_gives_the_same_variables():
    state = _state(_pysot_net())
    legacy = {}
    for k, v in state.items():
        if k.startswith("backbone.layer"):
            i, j = int(k[len("backbone.layer")]), int(k.split(".")[2])
            conv, bn = torch_import._LEGACY[i]
            k = k.replace(f"backbone.layer{i}.{j}", f"backbone.features.{conv if j == 0 else bn}")
        legacy[f"module.{k}"] = v  # DataParallel prefix too
    _, a = torch_import.convert("pysot_alexnet", torch_import.unwrap({"state_dict": legacy}))
    _, b = torch_import.convert("pysot_alexnet", state)
    jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)


def test_siamfc_alexnet_matches_torch_forward():
    torch.manual_seed(0)
    groups = (1, 2, 1, 2, 2)
    net = SiamFCNet(CHANNELS, groups)
    _randomize_bn(net, torch.Generator().manual_seed(1))
    net.eval()
    spec, variables = torch_import.convert("siamfc_alexnet", _state(net))
    assert spec.kind == "siamfc" and spec.groups == groups and not spec.final_bn
    assert spec.bn_eps == 1e-6
    z, x = _inputs()
    with torch.no_grad():
        ref = net(_nchw(z), _nchw(x)).numpy()[:, 0]  # RGB, [B, 17, 17]
    out = models.forward(models.build(spec), variables, z, x)
    assert _rel(np.asarray(out["response"]), ref) < 1e-4


def test_wrong_keys_are_listed():
    state = _state(_pysot_net())
    del state["rpn_head.loc.head.3.bias"]
    state["rpn_head.extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(torch_import.TorchImportError) as e:
        torch_import.convert("pysot_alexnet", state)
    assert "missing keys [rpn_head.loc.head.3.bias]" in str(e.value)
    assert "unexpected keys [rpn_head.extra.weight]" in str(e.value)
    # A siamfc-pytorch checkpoint read as pysot: everything listed, nothing converted.
    siamfc = _state(SiamFCNet(CHANNELS, (1, 2, 1, 2, 2)))
    with pytest.raises(torch_import.TorchImportError, match="backbone.layer1.0.weight"):
        torch_import.convert("pysot_alexnet", siamfc)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.pth"
    torch.save(_pysot_net().state_dict(), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(torch_import.TorchImportError, match="cannot read"):
        torch_import.load_state_dict(path)


def test_import_torch_cli_writes_a_teacher_checkpoint(cli, tmp_path):
    path = tmp_path / "model.pth"
    net = _pysot_net()
    torch.save({"state_dict": net.state_dict()}, path)
    workdir = tmp_path / "w7"
    cli(
        "--config=configs/import_torch.py",
        f"--config.torch_checkpoint={path}",
        "--config.torch_format=pysot_alexnet",
        f"--workdir={workdir}",
    )
    report = json.loads((workdir / "import.json").read_text())
    assert report["role"] == "teacher" and report["spec"]["channels"] == list(CHANNELS)
    loaded = checkpoints.load_models(workdir)
    assert list(loaded) == ["teacher"] and loaded["teacher"].role == "teacher"
    z, x = _inputs(1)
    m = loaded["teacher"]
    with torch.no_grad():
        cls_t, _ = net(_nchw(z, bgr=True), _nchw(x, bgr=True))
    out = models.forward(models.build(m.spec), m.variables, z, x)
    assert _rel(np.asarray(out["cls"]), cls_t.numpy().transpose(0, 2, 3, 1)) < 1e-4
    bad = cli(
        "--config=configs/import_torch.py",
        f"--config.torch_checkpoint={tmp_path / 'missing.pth'}",
        f"--workdir={tmp_path / 'w8'}",
        check=False,
    )
    assert bad.returncode == 2 and "missing.pth" in bad.stderr
