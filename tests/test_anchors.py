"""Anchors and box coding against hand-computed values."""

import numpy as np
import pytest

from dsiam_jax import anchors as A
from dsiam_jax import models as M


def test_anchor_shapes_as_pysot():
    # ws = int(sqrt(64 / r)), hs = int(ws * r), times scale 8.
    shapes = A.anchor_shapes((0.33, 0.5, 1, 2, 3), (8,))
    np.testing.assert_array_equal(shapes, [[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]])


def test_anchor_grid_centred_on_search_crop():
    spec = M.teacher_spec("siamrpn")
    anchors = A.anchors_for(spec, 127, 255)
    assert anchors.shape == (17, 17, 5, 4)
    assert anchors[8, 8, 0, 0] == anchors[8, 8, 0, 1] == 127.5  # crop centre
    assert anchors[0, 0, 0, 0] == 127.5 - 64 and anchors[0, 16, 0, 0] == 127.5 + 64
    assert anchors[3, 5, 2, 1] == 127.5 + (3 - 8) * 8  # cy varies with the row
    assert A.response_size(spec, 127, 271) == 19


def test_encode_hand_computed_and_decode_inverts():
    anchor = np.array([64.0, 64.0, 64.0, 64.0])
    box = np.array([70.0, 60.0, 50.0, 40.0])
    d = np.asarray(A.encode(box, anchor))
    np.testing.assert_allclose(d, [6 / 64, -4 / 64, np.log(50 / 64), np.log(40 / 64)], rtol=1e-6)
    np.testing.assert_allclose(A.decode(d, anchor), box, rtol=1e-5)


def test_iou_hand_computed():
    a = np.array([5.0, 5.0, 10.0, 10.0])
    b = np.array([10.0, 5.0, 10.0, 10.0])
    assert float(A.iou_cxcywh(a, b)) == pytest.approx(50 / 150)
    assert float(A.iou_cxcywh(a, a)) == pytest.approx(1.0)
    assert float(A.iou_cxcywh(a, a + np.array([20.0, 0, 0, 0]))) == 0.0


def test_split_rpn_maps_channel_order():
    """cls channel = class * k + anchor; reg channel = coord * k + anchor."""
    k = 5
    cls = np.arange(2 * k, dtype=np.float32).reshape(1, 1, 1, 2 * k)
    reg = np.arange(4 * k, dtype=np.float32).reshape(1, 1, 1, 4 * k)
    c, r = A.split_rpn_maps(cls, reg, k)
    assert c.shape == (1, 1, 1, k, 2) and r.shape == (1, 1, 1, k, 4)
    assert c[0, 0, 0, 3, 1] == 1 * k + 3
    assert r[0, 0, 0, 2, 3] == 3 * k + 2
