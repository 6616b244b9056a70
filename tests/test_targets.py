"""Training targets against plain NumPy loops: SiamFC labels, RPN anchor assignment/sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import anchors as A
from dsiam_jax import models as M
from dsiam_jax.train import targets as T

# One compile per call shape instead of op-by-op dispatch (much faster on CPU).
rpn_targets = jax.jit(
    T.rpn_targets,
    static_argnames=("num_samples", "max_pos", "neg_pair_radius", "neg_pair_samples"),
)
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
    assert out["pos"][2].sum() == 0 and out["neg"][2].sum() == 16  # negative pair


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


def pysot_candidates(box_xywh, search=255, response=17):
    """pysot's AnchorTarget rules as a plain loop: anchors (ratio, row, column) in corner
    form, IoU > 0.6 positive candidates, IoU < 0.3 negative candidates."""
    shapes = []
    for r in (0.33, 0.5, 1.0, 2.0, 3.0):
        ws = int((64 / r) ** 0.5)
        shapes.append((ws * 8, int(ws * r) * 8))
    x0, y0 = box_xywh[0], box_xywh[1]
    x1, y1 = x0 + box_xywh[2], y0 + box_xywh[3]
    pos = np.zeros((response, response, 5), bool)
    neg = np.zeros((response, response, 5), bool)
    ori = search / 2 - response // 2 * 8
    for i in range(response):
        for j in range(response):
            for a, (w, h) in enumerate(shapes):
                cx, cy = ori + 8 * j, ori + 8 * i
                ax0, ay0, ax1, ay1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
                iw = max(0.0, min(ax1, x1) - max(ax0, x0))
                ih = max(0.0, min(ay1, y1) - max(ay0, y0))
                iou = iw * ih / (w * h + (x1 - x0) * (y1 - y0) - iw * ih)
                pos[i, j, a], neg[i, j, a] = iou > 0.6, iou < 0.3
    return pos, neg


def test_rpn_targets_follow_the_pysot_rules_written_as_a_loop(rpn_anchors):
    """Hand-made boxes (centred, off-centre, elongated both ways, at the grid's corner,
    beyond the grid) and a negative pair; then a cap below the candidate count."""
    boxes = np.array(
        [
            [127.5 - 32, 127.5 - 32, 64.0, 64.0],  # centred square: many candidates
            [150.0, 60.0, 90.0, 30.0],  # wide, up-right
            [40.0, 120.0, 34.0, 100.0],  # tall, left
            [168.0, 166.0, 54.0, 54.0],  # at the grid's bottom-right corner
            [205.0, 20.0, 50.0, 50.0],  # beyond the grid: no candidate, all negatives
            [90.0, 90.0, 70.0, 70.0],  # negative pair: no positives whatever the IoU
        ]
    )
    neg = np.array([False, False, False, False, False, True])
    keys = jax.random.split(jax.random.key(3), len(boxes))
    out = jax.device_get(
        rpn_targets(keys, jnp.asarray(boxes, jnp.float32), jnp.asarray(neg), rpn_anchors)
    )
    for b in range(5):
        cand_pos, cand_neg = pysot_candidates(boxes[b])
        pos, negs = out["pos"][b], out["neg"][b]
        assert (cand_pos.sum() > 0) == (b != 4), b
        assert not (pos & ~cand_pos).any() and not (negs & ~cand_neg).any(), b
        assert pos.sum() == min(16, cand_pos.sum()), b
        assert pos.sum() + negs.sum() == 64, b
    assert out["pos"][5].sum() == 0 and out["neg"][5].sum() == 16
    assert np.all(out["delta"][5] == 0)
    cand_pos, cand_neg = pysot_candidates(boxes[0])
    assert cand_pos.sum() == 9  # the 64 x 64 anchors of the 3 x 3 central cells
    capped = rpn_targets(
        keys[:1], jnp.asarray(boxes[:1], jnp.float32), jnp.zeros(1, bool), rpn_anchors,
        num_samples=20, max_pos=4,
    )  # fmt: skip
    pos, negs = np.asarray(capped["pos"][0]), np.asarray(capped["neg"][0])
    assert pos.sum() == 4 and negs.sum() == 16
    assert not (pos & ~cand_pos).any() and not (negs & ~cand_neg).any()


def window_loop(box_xywh, radius, search=255, response=17):
    """pysot's negative-pair window as a loop: the cells at most `radius` rows and
    columns from the cell whose centre is nearest the box centre, `[R, R]` bool."""
    cx, cy = box_xywh[0] + box_xywh[2] / 2, box_xywh[1] + box_xywh[3] / 2
    centres = [search / 2 + (i - (response - 1) / 2) * 8 for i in range(response)]
    col = min(range(response), key=lambda j: abs(centres[j] - cx))
    row = min(range(response), key=lambda i: abs(centres[i] - cy))
    out = np.zeros((response, response), bool)
    for i in range(response):
        for j in range(response):
            out[i, j] = abs(i - row) <= radius and abs(j - col) <= radius
    return out


def test_negative_pairs_sample_around_the_object_they_show(rpn_anchors):
    """pysot's rule: a negative pair's 16 negatives come from the 7 x 7 cells around the
    object its search crop is centred on (clipped at the map's edge); radius -1 draws
    num_samples from the whole map; positive pairs are unaffected."""
    boxes = np.array(
        [
            [127.5 - 30, 127.5 - 20, 60.0, 40.0],  # centred: the central 7 x 7 cells
            [125.0, 40.0, 50.0, 30.0],  # off-centre, at the top row: window clipped there
            [0.0, 200.0, 20.0, 20.0],  # at the bottom-left corner: a 4 x 4 window
            [100.0, 95.0, 60.0, 70.0],  # a positive pair: the IoU rule, 64 samples
        ]
    )
    neg = np.array([True, True, True, False])
    keys = jax.random.split(jax.random.key(5), len(boxes))
    out = jax.device_get(
        rpn_targets(keys, jnp.asarray(boxes, jnp.float32), jnp.asarray(neg), rpn_anchors)
    )
    sizes = []
    for b in range(3):
        window = window_loop(boxes[b], 3)
        sizes.append(int(window.sum()))
        negs = out["neg"][b]  # [17, 17, 5]
        assert out["pos"][b].sum() == 0 and negs.sum() == 16, b
        assert not (negs & ~window[..., None]).any(), b
        assert np.all(out["delta"][b] == 0), b
    assert sizes == [49, 28, 16]  # 7 x 7; 7 x 4; 4 x 4 cells (x 5 anchors each)
    assert window_loop(boxes[0], 3)[5:12, 5:12].all()  # the central cells 5..11
    assert out["pos"][3].sum() + out["neg"][3].sum() == 64
    wide = jax.device_get(
        rpn_targets(
            keys, jnp.asarray(boxes, jnp.float32), jnp.asarray(neg), rpn_anchors,
            neg_pair_radius=-1,
        )
    )  # fmt: skip
    assert [int(wide["neg"][b].sum()) for b in range(3)] == [64] * 3
    outside = ~window_loop(boxes[0], 3)[..., None] & wide["neg"][0]
    assert outside.any()  # the whole map: most of it is outside the window
    np.testing.assert_array_equal(wide["neg"][3], out["neg"][3])
    np.testing.assert_array_equal(wide["pos"][3], out["pos"][3])
