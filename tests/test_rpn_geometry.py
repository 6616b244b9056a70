"""Where a response cell looks, in training (255 -> 17x17) and tracking (271 -> 19x19,
287 -> 21x21): anchors, the network's spatial alignment, encoding/decoding, channel layout.

A cell / anchor (i, j) must be centred on the search-crop point
(X/2 + (j - (R-1)/2) * 8, X/2 + (i - (R-1)/2) * 8) in continuous crop pixels, in the
training targets (anchors), in the network's output (what the cell actually sees) and
in the tracker's decoding; a half- or one-cell disagreement between any two of them
makes a tracker drift. References here are written out by hand (pysot's rules, the
AlexNet layer list, explicit formulas), not taken from the library.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import anchors as A
from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking import state as S
from dsiam_jax.tracking.siamrpn import SiamRPNConfig, SiamRPNTracking
from dsiam_jax.train import losses
from dsiam_jax.train import objective as objective_lib
from dsiam_jax.train import targets as T

SIZES = [(255, 17), (271, 19), (287, 21)]  # search crop -> response side
SHAPES_8 = [(104, 32), (88, 40), (64, 64), (40, 80), (32, 96)]  # pysot, ratios .33 .5 1 2 3


@pytest.mark.parametrize("search,response", SIZES)
def test_anchor_grid_as_pysot_centred_on_the_crop(search, response):
    """pysot: `ori = im_c - size // 2 * stride`, anchor (i, j) at ori + 8 (j, i); im_c is
    the crop centre, X/2 in continuous pixels (pysot's pixel index X//2 = X/2 - 0.5)."""
    spec = M.teacher_spec("siamrpn")
    assert A.response_size(spec, 127, search) == response
    anchors = A.anchors_for(spec, 127, search)
    assert anchors.shape == (response, response, 5, 4)
    ori = search / 2 - response // 2 * 8
    for i in range(response):
        for j in range(response):
            for a, (w, h) in enumerate(SHAPES_8):
                np.testing.assert_array_equal(anchors[i, j, a], [ori + 8 * j, ori + 8 * i, w, h])
    c = response // 2
    assert anchors[c, c, 0, 0] == anchors[c, c, 0, 1] == search / 2


# --- the network's spatial alignment --------------------------------------------------

# The AlexNet layers as (kernel, stride), all VALID (SPEC section 2).
ALEXNET_LAYERS = [(11, 2), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1)]


def receptive_field_centre(u: float, layers=ALEXNET_LAYERS) -> float:
    """Pixel index of the receptive-field centre of feature position u (VALID layers)."""
    for k, s in reversed(layers):
        u = s * u + (k - 1) / 2
    return u


@pytest.mark.parametrize("search,response", SIZES)
def test_receptive_field_centres_are_the_anchor_centres(search, response):
    """Cell i correlates search features i..i+5 (6x6 template feature; the RPN heads' extra
    3x3 convs on both sides keep the centre): centre feature i + 2.5, whose receptive
    field is centred on pixel index 8 (i + 2.5) + 43, i.e. continuous 8 i + 63.5."""
    assert receptive_field_centre(2.5) + 0.5 == 127 / 2  # template centre
    anchors = A.anchors_for(M.teacher_spec("siamrpn"), 127, search)
    for i in range(response):
        centre = receptive_field_centre(i + 2.5) + 0.5
        assert centre == 8 * i + 63.5
        assert anchors[0, i, 0, 0] == centre and anchors[i, 0, 0, 1] == centre


def symmetric_variables(spec: M.ModelSpec, seed: int = 0):
    """Random variables whose spatial kernels are mirror-symmetric on both axes."""

    def sym(path, leaf):
        if path[-1].key == "kernel" and leaf.ndim == 4 and leaf.shape[0] > 1:
            return (leaf + leaf[::-1] + leaf[:, ::-1] + leaf[::-1, ::-1]) / 4
        return leaf

    v = M.numpy_variables(spec, seed, random_batchnorm=True)
    return jax.tree_util.tree_map_with_path(sym, v)


GEOMETRY_SPECS = {
    "siamfc": M.ModelSpec(channels=(8, 16, 16, 16, 16)),
    "upchannel": M.ModelSpec(
        kind="siamrpn", head="upchannel", channels=(8, 16, 16, 16, 8), groups=(1,) * 5
    ),
    "depthwise": M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(8, 16, 16, 16, 8), groups=(1,) * 5,
        final_bn=True,
    ),
}  # fmt: skip


def head_maps(net, variables, z, x) -> jax.Array:
    """All output maps `[B, R, R, C]` of the tracking path (template, search, head)."""
    out = M.head(
        net, variables, M.template_branch(net, variables, z), M.search_branch(net, variables, x)
    )
    if "response" in out:
        return out["response"][..., None]
    return jnp.concatenate([out["cls"], out["reg"]], -1)


@pytest.mark.parametrize("head", sorted(GEOMETRY_SPECS))
def test_response_cells_are_centred_on_the_crop_and_step_8px(head):
    """A network with mirror-symmetric kernels is mirror-equivariant exactly when its
    response grid is centred on the crop: mirroring the search crop (symmetric template)
    must mirror every output map. Translating the crop by 8 px must move the maps by one
    cell. Together: cell i sees crop point X/2 + (i - (R-1)/2) * 8, at every crop size."""
    spec = GEOMETRY_SPECS[head]
    net = M.build(spec, xcorr_impl="vmap")
    v = symmetric_variables(spec)
    rng = np.random.default_rng(1)
    z = rng.uniform(0, 255, (1, 127, 127, 3)).astype(np.float32)
    z = (z + z[:, ::-1] + z[:, :, ::-1] + z[:, ::-1, ::-1]) / 4
    maps = jax.jit(lambda x: head_maps(net, v, jnp.asarray(z), x))
    for search, response in SIZES:
        x = rng.uniform(0, 255, (1, search + 8, search + 8, 3)).astype(np.float32)
        base = np.asarray(maps(x[:, :search, :search]))  # [1, R, R, C]
        assert base.shape[1:3] == (response, response)
        scale = np.abs(base).max()
        mirrored = np.asarray(maps(x[:, :search, :search][:, :, ::-1]))
        np.testing.assert_allclose(mirrored, base[:, :, ::-1], atol=2e-4 * scale)
        flipped = np.asarray(maps(x[:, :search, :search][:, ::-1]))
        np.testing.assert_allclose(flipped, base[:, ::-1], atol=2e-4 * scale)
        right = np.asarray(maps(x[:, :search, 8:]))  # content moved 8 px to the left
        np.testing.assert_allclose(right[:, :, :-1], base[:, :, 1:], atol=2e-4 * scale)
        down = np.asarray(maps(x[:, 8:, :search]))
        np.testing.assert_allclose(down[:, :-1], base[:, 1:], atol=2e-4 * scale)


# --- encoding (training) and decoding (tracking) ------------------------------------


def test_target_encoding_of_a_hand_made_box():
    """Box (x, y, w, h) = (100, 90, 60, 40) in a 255 crop: centre (130, 110). Anchor at
    row 6, column 8, ratio 0.5: centre (127.5, 127.5 - 16) = (127.5, 111.5), 88 x 40.
    IoU: overlap 60 x 38.5 = 2310 over 2400 + 3520 - 2310 = 3610 -> 0.640 (positive).
    Offsets: (2.5 / 88, -1.5 / 40, log(60 / 88), log(40 / 40))."""
    anchors = A.anchors_for(M.teacher_spec("siamrpn"), 127, 255)
    np.testing.assert_array_equal(anchors[6, 8, 1], [127.5, 111.5, 88, 40])
    out = jax.jit(T.rpn_targets, static_argnames="max_pos")(
        jax.random.split(jax.random.key(0), 1),
        jnp.asarray([[100.0, 90.0, 60.0, 40.0]]),
        jnp.zeros(1, bool),
        anchors,
        max_pos=100,
    )
    assert float(out["iou"][0, 6, 8, 1]) == pytest.approx(2310 / 3610, rel=1e-6)
    assert bool(out["pos"][0, 6, 8, 1])
    want = [2.5 / 88, -1.5 / 40, math.log(60 / 88), 0.0]
    np.testing.assert_allclose(out["delta"][0, 6, 8, 1], want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("search,response", SIZES)
def test_decode_inverts_encode_on_every_anchor(search, response):
    anchors = A.anchors_for(M.teacher_spec("siamrpn"), 127, search)
    rng = np.random.default_rng(0)
    boxes = np.concatenate(
        [rng.uniform(20, search - 20, (response, response, 5, 2)),
         rng.uniform(8, 200, (response, response, 5, 2))], -1
    ).astype(np.float32)  # fmt: skip
    deltas = A.encode(jnp.asarray(boxes), anchors)
    np.testing.assert_allclose(A.decode(deltas, anchors), boxes, rtol=1e-5, atol=1e-3)


def padded_side(w, h):
    p = (w + h) / 2
    return math.sqrt((w + p) * (h + p))


def test_tracker_update_decodes_the_best_anchor_by_hand():
    """One confident anchor (row 9, column 11, ratio 0.5 of the 19x19 grid at 271) whose
    reg encodes a known crop box: the new state follows pysot's update, written out."""
    spec = M.teacher_spec("siamrpn")
    pysot = SiamRPNConfig(center="regression", aspect_rate=1.0, num_scales=1)
    alg = SiamRPNTracking(spec, pysot)
    k, r = 5, 19
    center, size = np.array([200.0, 150.0]), np.array([60.0, 40.0])
    s_x = padded_side(*size) * 271 / 127
    scale = 271 / s_x  # crop px per image px
    anchor = (135.5 + 16, 135.5, 88.0, 40.0)  # (i, j, a) = (9, 11, 1)
    box = (155.5, 131.5, 66.0 * scale, 40.0 * scale)  # crop px: 10% wider than now
    enc = [(box[0] - anchor[0]) / anchor[2], (box[1] - anchor[1]) / anchor[3]]
    enc += [math.log(box[2] / anchor[2]), math.log(box[3] / anchor[3])]
    cls = np.zeros((1, r, r, 2 * k), np.float32)
    cls[..., k:] = -10.0  # foreground logits (channel = class * k + anchor)
    cls[0, 9, 11, k + 1] = 10.0
    reg = np.zeros((1, r, r, 4 * k), np.float32)
    for c in range(4):
        reg[0, 9, 11, c * k + 1] = enc[c]  # channel = coord * k + anchor
    state = S.TrackState(
        jnp.asarray(center, jnp.float32), jnp.asarray(size, jnp.float32),
        jnp.full(2, 10.0), jnp.zeros(3), None,
    )  # fmt: skip
    update = jax.jit(alg.update, static_argnums=2)
    new, out_box, score = update(state, {"cls": cls, "reg": reg}, (480, 640))

    p_fg = 1 / (1 + math.exp(-10.0))
    s_c = padded_side(66, 40) / padded_side(60, 40)  # scale change (> 1 here)
    r_c = 1.1  # aspect change: (60/40) / (66/40) -> max(r, 1/r)
    penalty = math.exp(-(r_c * s_c - 1) * 0.055)
    lr = penalty * p_fg * 0.295
    want_center = center + (np.array(box[:2]) - 135.5) / scale
    want_size = size * (1 - lr) + np.array([66.0, 40.0]) * lr
    assert float(score) == pytest.approx(p_fg, rel=1e-6)
    np.testing.assert_allclose(new.center, want_center, rtol=1e-5)
    np.testing.assert_allclose(new.size, want_size, rtol=1e-5)
    np.testing.assert_allclose(out_box, [*(want_center - want_size / 2), *want_size], rtol=1e-5)


@pytest.mark.parametrize("center", ["anchor", "peak"])
def test_tracker_center_from_the_anchor_or_the_log_odds_peak(center):
    """`center=anchor` ignores the reg centre offsets; `center=peak` moves the best
    anchor's centre to the vertex of the parabolas through the foreground log-odds of its
    cell and the neighbours (hand-computed: logits 1 / 3 / 2 along x -> +1/6 cell, 0.5 / 3
    / 0.5 along y -> 0). Sizes still come from the regression (here: none, lr cancels)."""
    spec = M.teacher_spec("siamrpn")
    alg = SiamRPNTracking(spec, SiamRPNConfig(center=center, window_influence=0.0, num_scales=1))
    k, r = 5, 19
    center_px, size = np.array([200.0, 150.0]), np.array([60.0, 40.0])
    scale = 271 / (padded_side(*size) * 271 / 127)
    cls = np.zeros((1, r, r, 2 * k), np.float32)
    cls[..., k:] = -10.0  # foreground logits; background 0
    cls[0, 9, 11, k + 1] = 3.0  # best anchor (i, j, a) = (9, 11, 1), centre (151.5, 135.5)
    cls[0, 9, 10, k + 2] = 1.0  # left neighbour (another anchor: max over anchors)
    cls[0, 9, 12, k + 0] = 2.0  # right neighbour
    cls[0, 8, 11, k + 3] = 0.5  # above
    cls[0, 10, 11, k + 4] = 0.5  # below
    reg = np.zeros((1, r, r, 4 * k), np.float32)
    reg[0, 9, 11, 0 * k + 1] = 0.25  # a centre offset (dx) that only 'regression' uses
    reg[0, 9, 11, 2 * k + 1] = math.log(60.0 * scale / 88.0)  # the current size: no change
    reg[0, 9, 11, 3 * k + 1] = math.log(40.0 * scale / 40.0)
    state = S.TrackState(
        jnp.asarray(center_px, jnp.float32), jnp.asarray(size, jnp.float32),
        jnp.full(2, 10.0), jnp.zeros(3), None,
    )  # fmt: skip
    new, _, _ = jax.jit(alg.update, static_argnums=2)(state, {"cls": cls, "reg": reg}, (480, 640))
    shift_x = {"anchor": 0.0, "peak": 0.5 * (1.0 - 2.0) / (1.0 - 6.0 + 2.0) * 8}[center]
    want = center_px + (np.array([151.5 + shift_x, 135.5]) - 135.5) / scale
    np.testing.assert_allclose(new.center, want, rtol=1e-5)
    np.testing.assert_allclose(new.size, size, rtol=1e-4)


def test_tracker_center_rejects_an_unknown_source():
    with pytest.raises(ConfigError, match="tracker.siamrpn.center='middle'"):
        SiamRPNConfig(center="middle").check()
    with pytest.raises(ConfigError, match="tracker.siamrpn.score_map='softmax'"):
        SiamRPNConfig(score_map="softmax").check()


@pytest.mark.parametrize("score_map,column", [("probability", 10), ("normalized", 12)])
def test_tracker_score_map_saturated_probabilities_against_normalised_log_odds(score_map, column):
    """Two confident anchors on row 9: log-odds 6 at column 10 (one cell from the
    centre) and 12 at column 12 (three cells). Foreground probabilities 0.9975 and
    ~1 tie, so with pysot's mix the window picks column 10 (0.58 * 0.9975 + 0.42 *
    hann 0.970 = 0.986 against 0.58 + 0.42 * 0.75 = 0.895). The normalised map
    (log-odds - min, over their sum: (6 + 10) / 38 and (12 + 10) / 38) against the
    window normalised to sum 1 over the 19 x 19 x 5 anchors (81 * 5, np.hanning(19)
    sums to 9) keeps the stronger: 0.58 * 22 / 38 + 0.42 * 0.75 / 405 = 0.3366 against
    0.58 * 16 / 38 + 0.42 * 0.970 / 405 = 0.2452."""
    spec = M.teacher_spec("siamrpn")
    cfg = SiamRPNConfig(center="anchor", score_map=score_map, penalty_k=0.0, lr=0.0, num_scales=1)
    alg = SiamRPNTracking(spec, cfg)
    k, r = 5, 19
    center_px, size = np.array([200.0, 150.0]), np.array([60.0, 40.0])
    scale = 271 / (padded_side(*size) * 271 / 127)
    cls = np.zeros((1, r, r, 2 * k), np.float32)
    cls[..., k:] = -10.0  # foreground logits; background 0
    cls[0, 9, 10, k + 2] = 6.0
    cls[0, 9, 12, k + 2] = 12.0
    reg = np.zeros((1, r, r, 4 * k), np.float32)
    state = S.TrackState(
        jnp.asarray(center_px, jnp.float32), jnp.asarray(size, jnp.float32),
        jnp.full(2, 10.0), jnp.zeros(3), None,
    )  # fmt: skip
    new, _, _ = jax.jit(alg.update, static_argnums=2)(state, {"cls": cls, "reg": reg}, (480, 640))
    want = center_px + np.array([(column - 9) * 8, 0.0]) / scale
    np.testing.assert_allclose(new.center, want, rtol=1e-5)


def test_training_and_tracking_pair_the_same_cls_channels():
    """pysot's layout (`cls.view(b, 2, k, h, w)`): channel c * k + a is class c of anchor
    a. A map that says 'anchor 3 at (2, 4) is the target' must be read that way by the
    training loss (low loss with that anchor positive, high with anchor 2 positive) and
    by the tracker (its best anchor is anchor 3)."""
    k, r = 5, 19
    cls = np.zeros((1, r, r, 2 * k), np.float32)
    cls[..., :k] = 6.0  # background logits everywhere
    cls[0, 2, 4, k + 3] = 14.0  # class 1 (target) of anchor 3
    pred = objective_lib.prediction({"cls": cls, "reg": np.zeros((1, r, r, 4 * k)),
                                     "features": np.zeros((1, 1))}, k)  # fmt: skip
    fg = np.asarray(pred.foreground())[0]
    assert np.unravel_index(np.argmax(fg), fg.shape) == (2, 4, 3)
    neg = np.ones((1, r, r, k), bool)
    right = np.zeros((1, r, r, k), bool)
    right[0, 2, 4, 3] = True
    wrong = np.zeros((1, r, r, k), bool)
    wrong[0, 2, 4, 2] = True
    loss_right = float(losses.rpn_cls_loss(pred.logits, right, neg & ~right)[0])
    loss_wrong = float(losses.rpn_cls_loss(pred.logits, wrong, neg & ~wrong)[0])
    assert loss_right < 0.01 < 1.0 < loss_wrong
    alg = SiamRPNTracking(
        M.teacher_spec("siamrpn"),
        SiamRPNConfig(center="regression", window_influence=0.0, num_scales=1),
    )
    state = S.TrackState(jnp.asarray([300.0, 200.0]), jnp.asarray([64.0, 64.0]),
                         jnp.full(2, 10.0), jnp.zeros(3), None)  # fmt: skip
    reg = np.zeros((1, r, r, 4 * k), np.float32)
    new, _, _ = jax.jit(alg.update, static_argnums=2)(state, {"cls": cls, "reg": reg}, (480, 640))
    scale = 271 / (padded_side(64, 64) * 271 / 127)
    # anchor 3 of cell (2, 4) is at crop (135.5 - 40, 135.5 - 56)
    np.testing.assert_allclose(new.center, [300 - 40 / scale, 200 - 56 / scale], rtol=1e-5)
