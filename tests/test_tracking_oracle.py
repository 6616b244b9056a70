"""Oracle tracking: a perfect network through the real trackers' crops and post-processing.

The frames are coordinate images (float32): channel 0 holds each pixel's x centre,
channel 1 its y centre and channel 2 the frame index. A bilinear crop of a linear
ramp is exact, so the oracle network reads from its input crop alone where the crop
lies in the image (centre and side) and which frame it came from, maps that frame's
ground-truth box into crop pixels, and answers what a perfect network would:

- SiamRPN: cls foreground logit rising with each anchor's IoU with the true box,
  reg = the exact encoding of the true box relative to every anchor with IoU > 0.2
  (zero elsewhere; anchors written out here by pysot's rules, not taken from the
  library);
- SiamFC: a response peak at the true centre whose height falls off with the
  mismatch between the crop's scale and the target's.

Everything between the network and the reported box (crop geometry, decoding, scale
and aspect penalty, cosine window, size update, upsampling, scale pyramid) is the
library's, so a wrong sign, offset, cell origin or channel layout there shows up as
a success AUC below 0.95 (the best possible is 20/21 = 0.952: IoU > 1 never holds).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import models as M
from dsiam_jax.evaluation.metrics import rect_iou, sequence_metrics
from dsiam_jax.models import TrackerModel
from dsiam_jax.tracking import TrackerNetwork, build_tracker

FRAME_W, FRAME_H = 640, 480
TEMPLATE = 127
STRIDE = 8
RATIOS = (0.33, 0.5, 1.0, 2.0, 3.0)  # anchor h/w; one scale of 8 strides


def moving_boxes(n: int = 60) -> np.ndarray:
    """`[n, 4]` (x, y, w, h): a target on a curved path (up to ~5 px/frame) that grows
    by 35% (0.5%/frame) with a fixed aspect ratio (SiamFC cannot change aspect)."""
    t = np.arange(n, dtype=np.float64)
    cx = 200.0 + 4.0 * t
    cy = 240.0 + 60.0 * np.sin(2 * np.pi * t / n)
    grow = 1.005**t
    w, h = 54.0 * grow, 36.0 * grow
    return np.stack([cx - w / 2, cy - h / 2, w, h], -1)


def coordinate_frame(index: int) -> np.ndarray:
    """`[H, W, 3]` float32: pixel (r, c) = (c + 0.5, r + 0.5, index)."""
    xs = np.broadcast_to(np.arange(FRAME_W, dtype=np.float32) + 0.5, (FRAME_H, FRAME_W))
    ys = np.broadcast_to(np.arange(FRAME_H, dtype=np.float32)[:, None] + 0.5, (FRAME_H, FRAME_W))
    return np.stack([xs, ys, np.full_like(xs, index)], -1)


def crop_geometry(crop: jax.Array):
    """`(cx, cy, side, frame index)` of a crop `[X, X, 3]` of a coordinate frame.

    Pixel j of a crop samples image point cx - side/2 + (j + 0.5) side / X, so two
    pixels either side of the centre (inside the image) give side and centre.
    """
    size = crop.shape[0]
    j0, j1 = size // 2 - 40, size // 2 + 40
    side = (crop[j0, j1, 0] - crop[j0, j0, 0]) * size / (j1 - j0)
    cx = crop[j0, j0, 0] + side / 2 - (j0 + 0.5) * side / size
    cy = crop[j0, j0, 1] + side / 2 - (j0 + 0.5) * side / size
    return cx, cy, side, jnp.round(crop[size // 2, size // 2, 2]).astype(jnp.int32)


def true_box_in_crop(crop: jax.Array, boxes: jax.Array) -> jax.Array:
    """The current frame's true box as (cx, cy, w, h) in the crop's pixels."""
    cx, cy, side, index = crop_geometry(crop)
    x, y, w, h = boxes[index]
    scale = crop.shape[0] / side
    left, top = cx - side / 2, cy - side / 2
    return jnp.stack([(x + w / 2 - left) * scale, (y + h / 2 - top) * scale, w * scale, h * scale])


def pysot_anchors(response: int, search: int) -> np.ndarray:
    """`[R, R, k, 4]` (cx, cy, w, h): pysot's anchors (`Anchors.generate_anchors` +
    `generate_all_anchors`), centred on the crop centre search/2 and stepping by 8.
    Order: row i (y), column j (x), ratio."""
    shapes = []
    for r in RATIOS:
        ws = int(math.sqrt(STRIDE * STRIDE / r))
        hs = int(ws * r)
        shapes.append((ws * 8, hs * 8))
    out = np.zeros((response, response, len(RATIOS), 4))
    ori = search / 2 - response // 2 * STRIDE
    for i in range(response):
        for j in range(response):
            for a, (w, h) in enumerate(shapes):
                out[i, j, a] = (ori + STRIDE * j, ori + STRIDE * i, w, h)
    return out.astype(np.float32)


def iou_cxcywh(a: jax.Array, b: jax.Array) -> jax.Array:
    """IoU of cxcywh boxes `a [..., 4]` with one cxcywh box `b [4]`."""
    lo = jnp.maximum(a[..., :2] - a[..., 2:] / 2, b[:2] - b[2:] / 2)
    hi = jnp.minimum(a[..., :2] + a[..., 2:] / 2, b[:2] + b[2:] / 2)
    inter = jnp.prod(jnp.clip(hi - lo, 0.0), -1)
    return inter / (a[..., 2] * a[..., 3] + b[2] * b[3] - inter)


def scale_mismatch(box: jax.Array, context: float = 0.5) -> jax.Array:
    """log(s / 127) for a box (cx, cy, w, h) in crop px whose context square measures s
    (0 when the crop's scale is the target's)."""
    w, h = box[2], box[3]
    p = context * (w + h)
    return jnp.log(jnp.sqrt((w + p) * (h + p)) / TEMPLATE)


def rpn_oracle(
    boxes: np.ndarray, search: int, smooth: bool = False, size_blind: bool = False
) -> TrackerNetwork:
    """A perfect SiamRPN network (head layout: cls channel = class * k + anchor,
    reg channel = coord * k + anchor). Its foreground log-odds are 12 IoU - 4, or with
    `smooth` a real network's smooth peak: 8 exp(-d^2 / (2 * 8^2)) - 4 for a cell d crop
    px from the true centre, plus 4 times the IoU of the anchor's shape with the true
    one (both centred), so the map peaks between cells where the target is.

    `size_blind`: a network that cannot read the target's size, as the trained small
    RPNs nearly (studies/siamrpn/README.md section 41): its regression gives the true
    box rescaled to the crop's scale (context square 127 px), and its map is SiamFC's
    oracle's: the smooth peak's height falls off with the crop's scale mismatch."""
    response = (search - TEMPLATE) // STRIDE + 1
    anchors = jnp.asarray(pysot_anchors(response, search))  # [R, R, k, 4]
    boxes = jnp.asarray(boxes, jnp.float32)

    def one(crop):  # [X, X, 3] -> cls [R, R, 2k], reg [R, R, 4k]
        truth = true_box_in_crop(crop, boxes)  # [4]
        iou = iou_cxcywh(anchors, truth)  # [R, R, k]
        fg = 12.0 * iou - 4.0  # p(fg) from 0.02 (no overlap) to 1.0
        if smooth or size_blind:
            d2 = jnp.sum((anchors[..., :2] - truth[:2]) ** 2, -1)  # [R, R, k]
            centred = jnp.concatenate([jnp.broadcast_to(truth[:2], anchors[..., :2].shape),
                                       anchors[..., 2:]], -1)  # fmt: skip
            fg = 8.0 * jnp.exp(-d2 / (2 * STRIDE**2)) - 4.0 + 4.0 * iou_cxcywh(centred, truth)
        if size_blind:
            mismatch = scale_mismatch(truth)
            fg = 8.0 * jnp.exp(-d2 / (2 * STRIDE**2) - mismatch**2 / (2 * 0.05**2)) - 4.0
            truth = truth.at[2:].divide(jnp.exp(mismatch))  # the size at the crop's scale
        cls = jnp.concatenate([jnp.zeros_like(fg), fg], -1)  # [R, R, 2k]
        delta = jnp.concatenate(
            [
                (truth[:2] - anchors[..., :2]) / anchors[..., 2:],
                jnp.log(truth[2:] / anchors[..., 2:]),
            ],
            -1,
        )  # [R, R, k, 4]
        delta = jnp.where(iou[..., None] > 0.2, delta, 0.0)  # far anchors regress nothing
        reg = jnp.moveaxis(delta, -1, -2).reshape(response, response, -1)  # [R, R, 4k]
        return cls, reg

    def search_fn(params, kernels, x):  # x [S, X, X, 3]
        del params, kernels
        cls, reg = jax.vmap(one)(x)
        return {"cls": cls, "reg": reg}

    return TrackerNetwork(lambda p, z: jnp.zeros(()), search_fn, name="rpn_oracle")


def fc_oracle(boxes: np.ndarray, search: int, context: float = 0.5) -> TrackerNetwork:
    """A perfect SiamFC network: a Gaussian peak (sigma one cell) at the true centre,
    height exp(-log(s / 127)^2 / (2 * 0.05^2)) for a target whose context square
    measures s crop pixels (127 when the crop's scale is the target's)."""
    response = (search - TEMPLATE) // STRIDE + 1
    cells = search / 2 + (np.arange(response) - (response - 1) / 2) * STRIDE
    cells = jnp.asarray(cells, jnp.float32)
    boxes = jnp.asarray(boxes, jnp.float32)

    def one(crop):  # [X, X, 3] -> [R, R]
        cx, cy, w, h = box = true_box_in_crop(crop, boxes)
        mismatch = scale_mismatch(box, context)
        height = jnp.exp(-(mismatch**2) / (2 * 0.05**2))
        d2 = (cells[None, :] - cx) ** 2 + (cells[:, None] - cy) ** 2
        return height * jnp.exp(-d2 / (2 * STRIDE**2))

    def search_fn(params, kernels, x):  # x [S, X, X, 3]
        del params, kernels
        return {"response": jax.vmap(one)(x)}

    return TrackerNetwork(lambda p, z: jnp.zeros(()), search_fn, name="fc_oracle")


def track_oracle(spec: M.ModelSpec, network: TrackerNetwork, boxes: np.ndarray, tracker_config):
    """Boxes `[N, 4]` of the real tracker (jitted init / track) driven by `network`."""
    tracker = build_tracker(TrackerModel("oracle", spec, {}), tracker_config, network=network)
    state = tracker.init_jit(tracker.params, coordinate_frame(0), boxes[0].astype(np.float32))
    out = [boxes[0]]
    for i in range(1, len(boxes)):
        state, box, _ = tracker.track_jit(tracker.params, state, coordinate_frame(i))
        out.append(np.asarray(box, np.float64))
    return np.asarray(out)


def success_auc(pred: np.ndarray, gt: np.ndarray) -> float:
    return sequence_metrics(pred, gt)["success_auc"]


def static_box_auc(gt: np.ndarray) -> float:
    return success_auc(np.repeat(gt[:1], len(gt), 0), gt)


RPN_SPEC = M.ModelSpec(
    kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 16), groups=(1,) * 5
)
FC_SPEC = M.ModelSpec(channels=(8, 16, 16, 16, 16))


@pytest.mark.parametrize(
    "search,center", [(271, "regression"), (287, "regression"), (255, "regression"),
                      (271, "upsampled")]
)  # fmt: skip
def test_siamrpn_tracker_with_a_perfect_network(search, center):
    """The centre from the regressed offsets, or from the upsampled map's peak (which
    needs a smooth map, as SiamFC's rule does: a peak sampled every 8 px)."""
    gt = moving_boxes()
    settings = {"siamrpn": {"search_size": search, "center": center}}
    network = rpn_oracle(gt, search, smooth=center == "upsampled")
    pred = track_oracle(RPN_SPEC, network, gt, settings)
    ious = rect_iou(pred, gt)
    assert static_box_auc(gt) < 0.3  # the sequence really moves
    assert success_auc(pred, gt) >= 0.95, ious
    assert ious.min() > 0.95, ious


def test_siamfc_tracker_with_a_perfect_network():
    gt = moving_boxes()
    pred = track_oracle(FC_SPEC, fc_oracle(gt, 255), gt, None)
    ious = rect_iou(pred, gt)
    assert success_auc(pred, gt) >= 0.95, ious
    assert ious.min() > 0.93, ious


def test_siamrpn_scale_pyramid_reads_the_size_a_blind_regression_misses():
    """A network that cannot read the target's size (`rpn_oracle(size_blind=True)`):
    with one crop the box keeps its first size while the target grows by 35%; with
    `num_scales=3` the tracker picks the crop whose peak is highest, as SiamFC does, and
    the size follows."""
    gt = moving_boxes()
    network = rpn_oracle(gt, 271, size_blind=True)
    one = track_oracle(RPN_SPEC, network, gt, {"siamrpn": {"num_scales": 1}})
    np.testing.assert_allclose(one[-1, 2:], gt[0, 2:], rtol=0.02)  # never grew
    pyramid = track_oracle(RPN_SPEC, network, gt, {"siamrpn": {"num_scales": 3}})
    ious = rect_iou(pyramid, gt)
    assert ious.min() > 0.9, ious
    assert success_auc(pyramid, gt) >= 0.95 > success_auc(one, gt) + 0.05
