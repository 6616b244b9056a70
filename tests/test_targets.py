"""Training targets against plain NumPy loops: SiamFC labels, RPN anchor assignment/sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import anchors as A
from dsiam_jax import models as M
from dsiam_jax.train import targets as T

# One compile per call shape instead of op-by-op dispatch (much faster on CPU).
rpn_targets = jax.jit(T.rpn_targets, static_argnames=("num_samples", "max_pos"))
siamfc_labels = jax.jit(T.siamfc_labels, static_argnums=(2, 3, 4, 5))


def numpy_labels(box, size, search, radius, l1=False):
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    out = np.zeros((size, size), np.float32)
    for i in range(size):
        for j in range(size):
            px = search / 2 + (j - (size - 1) / 2) * 8
            py = search / 2 + (i - (size - 1) / 2) * 8
            d = abs(px - cx) + abs(py - cy) if l1 else np.hypot(px - cx, py - cy)
            out[i, j] = d <= radius
    return out


def test_siamfc_labels_match_a_loop_over_cells():
    boxes = np.array([[100.0, 110.0, 55.0, 35.0], [27.5, 150.0, 40.0, 80.0], [0, 0, 10, 10]])
    neg = np.array([False, False, True])
    for l1 in (False, True):
        got = np.asarray(
            siamfc_labels(
                jnp.asarray(boxes), jnp.asarray(neg), 17, 255, 16.0, "l1" if l1 else "euclidean"
            )
        )
        for b in range(2):
            np.testing.assert_array_equal(got[b], numpy_labels(boxes[b], 17, 255, 16.0, l1))
        assert got[2].sum() == 0  # negative pair: no positive cell


def test_centred_target_gives_the_13_cell_disk():
    box = jnp.asarray([[127.5 - 20, 127.5 - 30, 40.0, 60.0]])
    labels = np.asarray(siamfc_labels(box, jnp.asarray([False]), 17, 255, 16.0))[0]
    assert labels.sum() == 13 and labels[8, 8] == 1 and labels[8, 10] == 1 and labels[9, 9] == 1
    assert labels[8, 11] == 0 and labels[10, 10] == 0


def test_balanced_weights_by_hand():
    pos = jnp.asarray([[1.0, 0, 0, 0], [0, 0, 0, 0]])
    w = np.asarray(T.balanced_weights(pos, 1 - pos))
    np.testing.assert_allclose(w[0], [0.5, 1 / 6, 1 / 6, 1 / 6], rtol=1e-6)
    np.testing.assert_allclose(w[1], [0.25] * 4, rtol=1e-6)  # no positive: negatives carry all


def numpy_iou(anchors, box):
    """IoU of cxcywh anchors [..., 4] with an xywh box, via corner coordinates."""
    ax0, ay0 = anchors[..., 0] - anchors[..., 2] / 2, anchors[..., 1] - anchors[..., 3] / 2
    ax1, ay1 = anchors[..., 0] + anchors[..., 2] / 2, anchors[..., 1] + anchors[..., 3] / 2
    bx0, by0, bx1, by1 = box[0], box[1], box[0] + box[2], box[1] + box[3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    return inter / (anchors[..., 2] * anchors[..., 3] + box[2] * box[3] - inter)


@pytest.fixture(scope="module")
def rpn_anchors():
    return A.anchors_for(M.teacher_spec("siamrpn"), 127, 255).astype(np.float64)  # [17,17,5,4]


def test_rpn_assignment_sampling_and_offsets(rpn_anchors):
    boxes = np.array([[100.0, 95.0, 60.0, 70.0], [60.0, 120.0, 90.0, 40.0], [10, 10, 50, 50]])
    neg = np.array([False, False, True])
    keys = jax.random.split(jax.random.key(0), 3)
    out = jax.device_get(
        rpn_targets(keys, jnp.asarray(boxes, jnp.float32), jnp.asarray(neg), rpn_anchors)
    )
    for b in range(2):
        iou = numpy_iou(rpn_anchors, boxes[b])
        cand_pos, cand_neg = iou > 0.6, iou < 0.3
        assert cand_pos.sum() > 0
        pos, negs = out["pos"][b], out["neg"][b]
        assert not (pos & ~cand_pos).any() and not (negs & ~cand_neg).any()
        assert pos.sum() == min(16, cand_pos.sum())
        assert pos.sum() + negs.sum() == 64
        # normalised offsets of the positives, written out
        a = rpn_anchors[pos]
        cx, cy = boxes[b, 0] + boxes[b, 2] / 2, boxes[b, 1] + boxes[b, 3] / 2
        want = np.stack(
            [
                (cx - a[:, 0]) / a[:, 2],
                (cy - a[:, 1]) / a[:, 3],
                np.log(boxes[b, 2] / a[:, 2]),
                np.log(boxes[b, 3] / a[:, 3]),
            ],
            -1,
        )
        np.testing.assert_allclose(out["delta"][b][pos], want, rtol=1e-5, atol=1e-5)
        assert np.all(out["delta"][b][~pos] == 0)
    assert out["pos"][2].sum() == 0 and out["neg"][2].sum() == 64  # negative pair


def test_rpn_sampling_caps_positives_and_depends_on_the_key(rpn_anchors):
    # A large square target centred on the grid: many anchors above 0.6 IoU.
    box = jnp.asarray([[127.5 - 32, 127.5 - 32, 64.0, 64.0]] * 2)
    mask = numpy_iou(rpn_anchors, np.asarray(box[0])) > 0.6
    out = rpn_targets(
        jnp.stack([jax.random.key(1), jax.random.key(2)]),
        box,
        jnp.zeros(2, bool),
        rpn_anchors,
        max_pos=3,
        num_samples=10,
    )
    pos = np.asarray(out["pos"])
    assert mask.sum() > 3 and pos[0].sum() == 3 and np.asarray(out["neg"])[0].sum() == 7
    assert not (pos[0] == pos[1]).all()  # other key, other sample
    again = rpn_targets(
        jnp.stack([jax.random.key(1)]),
        box[:1],
        jnp.zeros(1, bool),
        rpn_anchors,
        max_pos=3,
        num_samples=10,
    )
    np.testing.assert_array_equal(np.asarray(again["pos"])[0], pos[0])  # same key, same sample
