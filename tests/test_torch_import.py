"""PyTorch import: pysot SiamRPN AlexNet (depthwise head), siamfc-pytorch AlexNetV1 and
DaSiamRPN's SiamRPN / SiamRPNBIG (up-channel head).

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
from dsiam_jax.models.spec import teacher_spec
from dsiam_jax.tracking import state as track_state
from dsiam_jax.tracking.tracker import make_algorithm

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


def _forward(spec, variables, z, x):
    """Our network's outputs, jitted (eager dispatch took 8 s of a 2 s compile + run)."""
    model = models.build(spec)
    return jax.jit(lambda v, z, x: models.forward(model, v, z, x))(variables, z, x)


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
    out = _forward(spec, variables, z, x)
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
    out = _forward(spec, variables, z, x)
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
    out = _forward(m.spec, m.variables, z, x)
    assert _rel(np.asarray(out["cls"]), cls_t.numpy().transpose(0, 2, 3, 1)) < 1e-4
    bad = cli(
        "--config=configs/import_torch.py",
        f"--config.torch_checkpoint={tmp_path / 'missing.pth'}",
        f"--workdir={tmp_path / 'w8'}",
        check=False,
    )
    assert bad.returncode == 2 and "missing.pth" in bad.stderr


# DaSiamRPN (foolwood/DaSiamRPN code/net.py, Python 2.7 / PyTorch 0.3): BGR 0..255 input.
DASIAMRPN_RATIOS = (0.33, 0.5, 1, 2, 3)  # their TrackerConfig.ratios; scales [8]


class DaSiamRPN(nn.Module):
    """Key layout of DaSiamRPN's `SiamRPN` (`SiamRPNBIG` at full width), our own definition.

    `featureExtract`: conv, BN, max-pool, ReLU (blocks 1-2: pool before ReLU), conv, BN,
    ReLU (blocks 3-4), conv, BN. Up-channel head: `conv_cls1` / `conv_r1` turn the
    template feature into 2k / 4k kernels of `feature_out` channels (their `temple`:
    `view(n, feature_out, 4, 4)`), correlated with `conv_cls2` / `conv_r2` of the search
    feature; `regress_adjust` on the reg map. Theirs runs batch 1; here the correlation is
    a grouped conv over the batch, so that each example sees its own kernels.
    """

    def __init__(self, channels, feature_out, k=5):
        super().__init__()
        w = (3, *channels)
        self.featureExtract = nn.Sequential(
            nn.Conv2d(w[0], w[1], 11, stride=2),
            nn.BatchNorm2d(w[1]),
            nn.MaxPool2d(3, 2),
            nn.ReLU(),
            nn.Conv2d(w[1], w[2], 5),
            nn.BatchNorm2d(w[2]),
            nn.MaxPool2d(3, 2),
            nn.ReLU(),
            nn.Conv2d(w[2], w[3], 3),
            nn.BatchNorm2d(w[3]),
            nn.ReLU(),
            nn.Conv2d(w[3], w[4], 3),
            nn.BatchNorm2d(w[4]),
            nn.ReLU(),
            nn.Conv2d(w[4], w[5], 3),
            nn.BatchNorm2d(w[5]),
        )
        self.k, self.feature_out = k, feature_out
        self.conv_r1 = nn.Conv2d(w[5], feature_out * 4 * k, 3)
        self.conv_r2 = nn.Conv2d(w[5], feature_out, 3)
        self.conv_cls1 = nn.Conv2d(w[5], feature_out * 2 * k, 3)
        self.conv_cls2 = nn.Conv2d(w[5], feature_out, 3)
        self.regress_adjust = nn.Conv2d(4 * k, 4 * k, 1)

    def _correlate(self, search, bank, n):
        b, c = bank.shape[0], self.feature_out
        kernels = bank.reshape(b * n, c, *bank.shape[2:])  # [B*n, C, 4, 4]
        out = F.conv2d(search.reshape(1, b * c, *search.shape[2:]), kernels, groups=b)
        return out.reshape(b, n, *out.shape[2:])

    def forward(self, z, x):
        zf, xf = self.featureExtract(z), self.featureExtract(x)
        cls = self._correlate(self.conv_cls2(xf), self.conv_cls1(zf), 2 * self.k)
        reg = self._correlate(self.conv_r2(xf), self.conv_r1(zf), 4 * self.k)
        return cls, self.regress_adjust(reg)  # [B, 2k, R, R], [B, 4k, R, R]


DA_CHANNELS, DA_HEAD = (8, 16, 16, 16, 16), 12  # head width != conv5 width: read from shapes


def _dasiamrpn_net(channels=DA_CHANNELS, feature_out=DA_HEAD):
    torch.manual_seed(0)
    net = DaSiamRPN(channels, feature_out)
    _randomize_bn(net, torch.Generator().manual_seed(1))
    with torch.no_grad():  # cls logits and reg deltas of order 1 (random 0..255 features
        # give cls logits near 400): the decode test then sees unsaturated scores.
        net.conv_cls1.weight.mul_(0.005)
        net.conv_cls1.bias.mul_(0.005)
        net.regress_adjust.weight.mul_(0.01)
    return net.eval()


@pytest.fixture(scope="module")
def dasiamrpn_case():
    """The test net, its import, and both outputs on batch-2 crops with a 271 search."""
    net = _dasiamrpn_net()
    state = _state(net)
    spec, variables = torch_import.convert("dasiamrpn", state)
    z, x = _inputs(search=271)
    with torch.no_grad():
        cls_t, reg_t = net(_nchw(z, bgr=True), _nchw(x, bgr=True))  # DaSiamRPN reads BGR
    out = _forward(spec, variables, z, x)
    jax_out = {"cls": np.asarray(out["cls"]), "reg": np.asarray(out["reg"])}
    return state, spec, variables, (cls_t.numpy(), reg_t.numpy()), jax_out


def test_dasiamrpn_matches_torch_forward(dasiamrpn_case):
    _, spec, variables, (cls_t, reg_t), out = dasiamrpn_case
    assert spec.kind == "siamrpn" and spec.head == "upchannel" and spec.final_bn
    assert spec.channels == DA_CHANNELS and spec.groups == (1,) * 5 and spec.bn_eps == 1e-5
    assert spec.rpn_channels == DA_HEAD and spec.num_anchors == 5
    torch_import.check_against_model(spec, variables)
    assert out["cls"].shape == (2, 19, 19, 10) and out["reg"].shape == (2, 19, 19, 20)
    assert _rel(out["cls"], cls_t.transpose(0, 2, 3, 1)) < 1e-4
    assert _rel(out["reg"], reg_t.transpose(0, 2, 3, 1)) < 1e-4


def _dasiamrpn_anchors(size, stride=8):
    """DaSiamRPN's `generate_anchor` under Python 2 (integer `size / 2`): `[k*R*R, 4]`.

    Rows anchor-major, then y, then x: (x, y offset from the crop centre, w, h).
    """
    shapes = []
    for r in DASIAMRPN_RATIOS:
        w = int(np.sqrt(stride * stride / r))
        shapes.append((w * 8, int(w * r) * 8))
    pos = -(size // 2) * stride + stride * np.arange(size)
    xx, yy = np.meshgrid(pos, pos)  # [R, R], x along columns
    rows = [(x, y, w, h) for w, h in shapes for x, y in zip(xx.ravel(), yy.ravel())]
    return np.asarray(rows, np.float64)


def _dasiamrpn_track_step(cls, reg, pos, sz, p):
    """DaSiamRPN's `tracker_eval` on batch-1 NCHW outputs -> (centre, size, score), image px."""
    size = cls.shape[-1]
    delta = reg[0].astype(np.float64).reshape(4, -1)  # (coord, anchor * R * R)
    logits = cls[0].astype(np.float64).reshape(2, -1)  # (class, anchor * R * R)
    e = np.exp(logits - logits.max(0))
    score = e[1] / e.sum(0)
    a = _dasiamrpn_anchors(size)
    box = np.stack(
        [
            delta[0] * a[:, 2] + a[:, 0],
            delta[1] * a[:, 3] + a[:, 1],
            np.exp(delta[2]) * a[:, 2],
            np.exp(delta[3]) * a[:, 3],
        ]
    )
    context = 0.5 * (sz[0] + sz[1])
    scale_z = 127 / np.sqrt((sz[0] + context) * (sz[1] + context))
    target = sz * scale_z

    def padded(w, h):
        pad = (w + h) / 2
        return np.sqrt((w + pad) * (h + pad))

    change = lambda r: np.maximum(r, 1 / r)
    s_c = change(padded(box[2], box[3]) / padded(*target))
    r_c = change((target[0] / target[1]) / (box[2] / box[3]))
    penalty = np.exp(-(r_c * s_c - 1) * p["penalty_k"])
    window = np.tile(np.outer(np.hanning(size), np.hanning(size)).ravel(), 5)
    pscore = penalty * score * (1 - p["window_influence"]) + window * p["window_influence"]
    best = int(np.argmax(pscore))
    lr = penalty[best] * score[best] * p["lr"]
    new_pos = pos + box[:2, best] / scale_z
    new_sz = sz * (1 - lr) + box[2:, best] / scale_z * lr
    return new_pos, new_sz, score[best]


def test_dasiamrpn_outputs_decode_like_dasiamrpn(dasiamrpn_case):
    """Our SiamRPN tracker on the imported net's outputs = DaSiamRPN's decode of theirs.

    Checks the anchor order and placement, the channel order of cls / reg, the class
    index of the score and the size update, with DaSiamRPN's SiamRPNBIG settings and
    its window, centre and size rules (`score_map=probability`, `center=regression`,
    `aspect_rate=1`; ours default to the normalised map, the upsampled peak and the first
    frame's aspect ratio).
    """
    _, spec, _, (cls_t, reg_t), out = dasiamrpn_case
    p = {"penalty_k": 0.055, "window_influence": 0.42, "lr": 0.295}
    rule = {"search_size": 271, "score_map": "probability", "center": "regression"}
    rule["aspect_rate"] = 1.0
    rule["num_scales"] = 1  # its single search crop
    algorithm = make_algorithm(spec, {"siamrpn": {**rule, **p}})
    update = jax.jit(lambda state, outputs: algorithm.update(state, outputs, (1000, 1000)))
    for i, (pos, sz) in enumerate([((500.0, 400.0), (80.0, 60.0)), ((300.0, 320.0), (30, 90))]):
        pos, sz = np.asarray(pos), np.asarray(sz, np.float64)
        want_pos, want_sz, want_score = _dasiamrpn_track_step(
            cls_t[i : i + 1], reg_t[i : i + 1], pos, sz, p
        )
        state = track_state.TrackState(
            center=np.float32(pos),
            size=np.float32(sz),
            min_size=np.float32([10, 10]),
            fill=np.zeros(3, np.float32),
            kernels=None,
        )
        outputs = {"cls": out["cls"][i : i + 1], "reg": out["reg"][i : i + 1]}
        new, _, score = update(state, outputs)
        np.testing.assert_allclose(np.asarray(new.center), want_pos, rtol=0, atol=1e-2)
        np.testing.assert_allclose(np.asarray(new.size), want_sz, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(float(score), want_score, rtol=1e-4)
        assert np.abs(want_pos - pos).max() > 1.0  # the step moved the target: not vacuous


def test_dasiamrpn_legacy_file_reads_like_the_state_dict(dasiamrpn_case, tmp_path):
    """DaSiamRPN's .model files predate PyTorch's zip format: the legacy format loads."""
    state, _, variables, _, _ = dasiamrpn_case
    path = tmp_path / "SiamRPNBIG.model"
    torch.save(_dasiamrpn_net().state_dict(), path, _use_new_zipfile_serialization=False)
    loaded = torch_import.load_state_dict(path)
    assert sorted(loaded) == sorted(state)
    _, again = torch_import.convert("dasiamrpn", loaded)
    jax.tree_util.tree_map(np.testing.assert_array_equal, again, variables)


def test_dasiamrpn_big_full_size_is_the_paper_teacher():
    """SiamRPNBIG's shapes (built on torch's meta device: no memory, no compute)."""
    with torch.device("meta"):
        net = DaSiamRPN((192, 512, 768, 768, 512), 512)
    state = {k: np.broadcast_to(np.float32(0.5), v.shape) for k, v in net.state_dict().items()}
    spec, variables = torch_import.convert("dasiamrpn_big", state)
    assert spec == teacher_spec("siamrpn", "upchannel")
    torch_import.check_against_model(spec, variables)
    n = models.num_params(variables["params"])
    assert n == sum(
        int(np.prod(v.shape)) for k, v in state.items() if "running" not in k and "tracked" not in k
    )
    assert round(models.num_params(variables) * 4 / 1e6, 1) == 361.8  # MB in float32


def test_dasiamrpn_wrong_files_are_clear_errors():
    state = _state(_dasiamrpn_net())
    # Weights of other widths named as SiamRPNBIG: the widths are checked.
    with pytest.raises(torch_import.TorchImportError, match="use torch_format=dasiamrpn"):
        torch_import.convert("dasiamrpn_big", state)
    bad = dict(state)
    del bad["regress_adjust.bias"]
    bad["conv_r3.weight"] = np.zeros(3, np.float32)
    with pytest.raises(torch_import.TorchImportError) as e:
        torch_import.convert("dasiamrpn", bad)
    assert "missing keys [regress_adjust.bias]" in str(e.value)
    assert "unexpected keys [conv_r3.weight]" in str(e.value)
    # A head with 3 anchors (k must be 5): named with the shape it should have.
    three = _state(DaSiamRPN(DA_CHANNELS, DA_HEAD, k=3))
    with pytest.raises(torch_import.TorchImportError, match=r"conv_cls1.weight has shape \(72,"):
        torch_import.convert("dasiamrpn", three)
    # A pysot checkpoint read as DaSiamRPN: every key listed on both sides.
    with pytest.raises(torch_import.TorchImportError) as e:
        torch_import.convert("dasiamrpn", _state(_pysot_net()))
    assert "featureExtract.0.weight" in str(e.value) and "backbone.layer1.0.weight" in str(e.value)
