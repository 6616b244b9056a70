"""The tracking benchmark's PyTorch peer (`benchmarks/torch_peer.py`) computes what
siamfc-pytorch computes: its network equals ours on the same (imported) weights, its
crop equals `crops.crop_numpy`, and its update equals the float64 NumPy reference of
siamfc-pytorch's steps (`test_tracking_postprocess.reference_update`)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from test_tracking_postprocess import _responses, reference_update

from dsiam_jax import crops, models
from dsiam_jax.export import torch_import
from dsiam_jax.tracking.siamfc import SiamFCConfig

torch = pytest.importorskip("torch")
torch_peer = pytest.importorskip("benchmarks.torch_peer")
from test_torch_import import _randomize_bn  # noqa: E402  (needs torch)


def test_peer_network_equals_ours_on_the_same_weights():
    torch.manual_seed(0)
    net = torch_peer.SiamFCNet((8, 16, 16, 16, 16), torch_peer.TEACHER_GROUPS)
    _randomize_bn(net, torch.Generator().manual_seed(1))
    net.eval()
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    spec, variables = torch_import.convert("siamfc_alexnet", state)
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 255, (1, 127, 127, 3)).astype(np.float32)
    x = rng.uniform(0, 255, (3, 255, 255, 3)).astype(np.float32)
    nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
    with torch.no_grad():
        ref = net.response(net.backbone(nchw(z)), nchw(x)).numpy()  # [3, 17, 17]
    model = models.build(spec)
    ours = jax.jit(lambda v, z, x: models.forward(model, v, z, x))(
        variables, np.repeat(z, 3, 0), x
    )["response"]
    assert np.abs(np.asarray(ours) - ref).max() < 1e-4 * np.abs(ref).max()


def test_peer_crop_equals_the_reference_crop():
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (40, 52, 3)).astype(np.uint8)
    image = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    fill = image.mean(dim=(0, 2, 3))
    centers, sides = [(20.3, 11.7), (2.0, 38.5), (50.2, 20.0)], [17.9, 30.0, 64.5]
    out = torch_peer.crop(image, fill, centers, sides, 15).permute(0, 2, 3, 1).numpy()
    for n, (center, side) in enumerate(zip(centers, sides, strict=True)):
        ref = crops.crop_numpy(frame, center, side, 15)
        np.testing.assert_allclose(out[n], ref, atol=2e-3)


@pytest.mark.parametrize("kind", ["noise", "peaks"])
@pytest.mark.parametrize("seed", range(4))
def test_peer_update_equals_the_reference(kind, seed):
    cfg = SiamFCConfig()
    peer = torch_peer.PeerTracker(torch_peer.SiamFCNet((8, 16, 16, 16, 16)), cfg)
    center, size = np.array([240.0, 180.0]), np.array([40.0 + 7 * seed, 30.0])
    w, h = size
    p = cfg.context * (w + h)
    peer.center, peer.size = center.copy(), size.copy()
    peer.z_side = np.sqrt((w + p) * (h + p))
    peer.x_side = peer.z_side * cfg.search_size / cfg.template_size
    responses = _responses(kind, seed)
    box = peer.update_from(torch.from_numpy(responses))
    ref_center, ref_size, _, side = reference_update(center, size, responses, cfg)
    one_px = side * (8 / cfg.response_up) / cfg.search_size  # float32 vs float64 argmax
    np.testing.assert_allclose(peer.center, ref_center, atol=1.01 * one_px)
    np.testing.assert_allclose(box[2:], ref_size, rtol=1e-6)
