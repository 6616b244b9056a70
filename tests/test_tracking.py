"""Trackers: following a synthetic target, batched == single, bad input, toolkit adapter."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from dsiam_jax import models as M
from dsiam_jax.anchors import response_size
from dsiam_jax.evaluation.metrics import rect_iou
from dsiam_jax.models import TrackerModel
from dsiam_jax.tracking import (
    TrackerNetwork,
    TrackingInputError,
    build_tracker,
    run_frames,
    track_batched,
)
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.state import cubic_resize_matrix

TINY = (8, 16, 16, 16, 16)
FC_SPEC = M.ModelSpec(channels=TINY)  # groups (1, 2, 1, 2, 2) as SiamFC
RPN_SPEC = M.ModelSpec(
    kind="siamrpn", head="depthwise", channels=TINY, groups=(1,) * 5, final_bn=True
)


def tiny_model(spec, seed=0, name="m"):
    return TrackerModel(name, spec, M.numpy_variables(spec, seed))


class Clip:
    """An in-memory sequence: a textured target translating over a flat noisy background."""

    def __init__(
        self, n=24, hw=(120, 160), size=(24, 24), start=(40.0, 40.0), v=(2.0, 1.0), seed=0
    ):
        rng = np.random.default_rng(seed)
        texture = rng.integers(0, 256, (size[1], size[0], 3)).astype(np.uint8)
        self.frames, boxes = [], []
        x, y = start
        for _ in range(n):
            f = np.clip(90 + rng.normal(0, 3, (*hw, 3)), 0, 255).astype(np.uint8)
            xi, yi = int(round(x)), int(round(y))
            f[yi : yi + size[1], xi : xi + size[0]] = texture
            self.frames.append(f)
            boxes.append([xi, yi, size[0], size[1]])
            x, y = x + v[0], y + v[1]
        self.boxes = np.asarray(boxes, float)

    def __len__(self):
        return len(self.frames)

    def load_frame(self, i):
        return self.frames[i]


def track_clip(tracker, clip):
    return run_frames(tracker, clip.load_frame, len(clip), clip.boxes[0])


def matching_network(template_size=127, search_size=271, num_anchors=5):
    """A hand-made SiamRPN 'network': normalised cross-correlation of gray crops.

    Shows the backend plug-in API (`TrackerNetwork`) and gives a tracker that
    really tracks without training: the template is the central 63x63 of the
    template crop; search windows of 63 px at stride 8 are centred exactly on the
    anchor grid, so cls = NCC at each anchor position and reg = 0 (boxes = anchors).
    """
    half = 31
    c = template_size // 2
    start = search_size // 2 - half - 8 * 9  # window of response cell 0

    def gray(img):
        return img.astype(jnp.float32).mean(-1)

    def template(params, z):  # [1, T, T, 3] -> [63, 63]
        del params
        t = gray(z[0])[c - half : c + half + 1, c - half : c + half + 1]
        t = t - t.mean()
        return t / (jnp.linalg.norm(t) + 1e-6)

    def one_crop(t, x):  # [X, X, 3] -> cls [19, 19, 2k], reg [19, 19, 4k]
        g = gray(x)[start : start + 8 * 18 + 63, start : start + 8 * 18 + 63]
        conv = lambda img, k: jax.lax.conv_general_dilated(
            img[None, None], k[None, None], (8, 8), "VALID"
        )[0, 0]
        ones = jnp.ones_like(t)
        n = ones.size
        s1, s2 = conv(g, ones), conv(g * g, ones)
        energy = jnp.sqrt(jnp.maximum(s2 - s1 * s1 / n, 1e-6))
        ncc = conv(g, t) / energy  # [19, 19]
        fg = jnp.repeat((8.0 * ncc)[..., None], num_anchors, -1)
        cls = jnp.concatenate([jnp.zeros_like(fg), fg], -1)
        reg = jnp.zeros((*ncc.shape, 4 * num_anchors))
        return {"cls": cls, "reg": reg}

    def search(params, t, x):  # [S, X, X, 3] -> cls [S, 19, 19, 2k], reg [S, 19, 19, 4k]
        del params
        return jax.vmap(one_crop, in_axes=(None, 0))(t, x)

    return TrackerNetwork(template, search, jittable=True, name="ncc")


def test_siamfc_tiny_random_network_follows_translating_target():
    tracker = build_tracker(tiny_model(FC_SPEC, seed=1))
    clip = Clip(seed=1)
    res = track_clip(tracker, clip)
    ious = rect_iou(res.boxes, clip.boxes)
    assert ious.mean() > 0.7, ious
    assert ious[-5:].min() > 0.5, ious
    assert np.all((res.scores >= 0) & (res.scores <= 1))


def test_siamrpn_with_plugged_network_follows_translating_target():
    model = TrackerModel("ncc", RPN_SPEC, {})
    assert response_size(RPN_SPEC, 127, 271) == 19
    # pysot's centre rule and single crop: the NCC map is sharp (a 63 px window at
    # stride 8), which the upsampled peak (the default, for trained networks' smooth
    # maps) follows less well, and its boxes are its anchors, which a scale pyramid
    # would resize by the NCC of crops 3.75% apart
    settings = {"siamrpn": {"center": "regression", "num_scales": 1}}
    tracker = build_tracker(model, settings, network=matching_network())
    clip = Clip(size=(24, 24), v=(2.5, -1.0), start=(40.0, 70.0), seed=2)
    res = track_clip(tracker, clip)
    ious = rect_iou(res.boxes, clip.boxes)
    assert ious.mean() > 0.7, ious
    assert ious.min() > 0.5, ious
    assert res.scores[1:].mean() > 0.5  # the matcher is fairly confident on its target


def test_non_jittable_network_gives_the_same_boxes():
    """A host-side network (as an onnxruntime backend would be) between jitted crop/post."""
    net = matching_network()
    host = TrackerNetwork(
        template=lambda p, z: np.asarray(jax.jit(net.template)(p, z)),
        search=lambda p, k, x: {
            k2: np.asarray(v) for k2, v in jax.jit(net.search)(p, k, x).items()
        },
        jittable=False,
        name="host",
    )
    model = TrackerModel("ncc", RPN_SPEC, {})
    clip = Clip(n=8, seed=3)
    a = track_clip(build_tracker(model, None, network=net), clip)
    b = track_clip(build_tracker(model, None, network=host), clip)
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)


@pytest.mark.parametrize(
    "spec,impl,sizes",
    [(FC_SPEC, "map", [(120, 160), (100, 130)]), (RPN_SPEC, "vmap", [(120, 160)])],
    ids=["siamfc-map-2sizes", "siamrpn-vmap"],
)
def test_batched_equals_single_sequence(spec, impl, sizes):
    """Unequal lengths (padding), a short last batch, and (siamfc) two frame-size groups."""
    tracker = build_tracker(tiny_model(spec, seed=0))
    clips = [
        Clip(n=9, seed=0),
        Clip(n=5, seed=1, hw=sizes[-1]),
        Clip(n=11, seed=2, v=(-1.5, 1.0), start=(90.0, 30.0)),
    ]
    single = [track_clip(tracker, c) for c in clips]
    batched = track_batched(tracker, clips, batch_size=2, chunk=4, impl=impl)
    for s, b in zip(single, batched):
        assert b.boxes.shape == s.boxes.shape
        np.testing.assert_allclose(b.boxes, s.boxes, atol=1e-3)
        np.testing.assert_allclose(b.scores, s.scores, atol=1e-4)
        assert b.image_size == s.image_size


@pytest.fixture(scope="module")
def fc_tracker():
    return build_tracker(tiny_model(FC_SPEC, seed=1))


def test_gray_rgba_and_pil_frames_track_like_rgb(fc_tracker):
    clip = Clip(n=4, seed=4)
    gray_frames = [f.mean(-1).astype(np.uint8) for f in clip.frames]
    rgb = [np.repeat(g[..., None], 3, -1) for g in gray_frames]
    ref = run_frames(fc_tracker, lambda i: rgb[i], 4, clip.boxes[0])
    as_gray = run_frames(fc_tracker, lambda i: gray_frames[i], 4, clip.boxes[0])
    rgba = lambda i: np.concatenate([rgb[i], np.full((*rgb[i].shape[:2], 1), 255, np.uint8)], -1)
    as_rgba = run_frames(fc_tracker, rgba, 4, clip.boxes[0])
    as_pil = run_frames(
        fc_tracker, lambda i: Image.fromarray(gray_frames[i], "L"), 4, clip.boxes[0]
    )
    for other in (as_gray, as_rgba, as_pil):
        np.testing.assert_allclose(other.boxes, ref.boxes, atol=1e-4)


def test_bad_boxes_give_clear_errors(fc_tracker):
    frame = Clip(n=1).frames[0]  # 160 x 120
    for box, words in [
        ((10, 10, 0, 20), "zero or negative size"),
        ((10, 10, 20, -3), "zero or negative size"),
        ((np.nan, 10, 20, 20), "not finite"),
        ((500, 500, 20, 20), "outside"),
        ((1, 2, 3), "4 numbers"),
        ("10,20,abc,5", "4 numbers"),
    ]:
        with pytest.raises(TrackingInputError, match=words):
            fc_tracker.init(frame, box)
    with pytest.raises(TrackingInputError, match="frame of shape"):
        fc_tracker.init(np.zeros((4, 4, 5), np.uint8), (0, 0, 2, 2))


def test_box_partly_outside_is_clipped_and_tracked(fc_tracker):
    clip = Clip(n=6, start=(2.0, 2.0), v=(2.0, 2.0), seed=5)
    np.testing.assert_allclose(F.check_init_box((-10, -4, 30, 30), (120, 160)), [0, 0, 20, 26])
    res = run_frames(fc_tracker, clip.load_frame, 6, (-10.0, -10.0, 36.0, 36.0))
    assert np.all(np.isfinite(res.boxes))
    assert np.all(res.boxes[1:, :2] >= 0) and np.all(res.boxes[1:, 2:] > 0)
    assert np.all(res.boxes[1:, 0] + res.boxes[1:, 2] <= 160 + 1e-3)


def test_frames_changing_size_and_box_strings(fc_tracker):
    clip = Clip(n=6, seed=6)
    frames = clip.frames[:3] + [f[:100, :140] for f in clip.frames[3:]]
    res = run_frames(fc_tracker, lambda i: frames[i], 6, "(40, 40, 24, 24)")
    assert np.all(np.isfinite(res.boxes))
    assert np.all(res.boxes[3:, 0] + res.boxes[3:, 2] <= 140 + 1e-3)
    assert np.all(res.boxes[3:, 1] + res.boxes[3:, 3] <= 100 + 1e-3)
    for text in ("(1,2,3,4)", "1 2 3 4", "[1, 2, 3, 4]", "1,2,3,4"):
        np.testing.assert_array_equal(F.parse_box(text), [1, 2, 3, 4])


def test_tiny_and_huge_sizes_are_clamped(fc_tracker):
    """A flat frame gives no signal: the size must stay within [min size, frame]."""
    flat = np.full((60, 80, 3), 100, np.uint8)
    state = fc_tracker.init(flat, (30, 20, 4, 3))
    for _ in range(5):
        state, box, score = fc_tracker.track(state, flat)
        assert box[2] <= 80 and box[3] <= 60 and box[2] >= 4 - 1e-3 and box[3] >= 3 - 1e-3
        assert np.isfinite(score)
    np.testing.assert_allclose(np.asarray(state.min_size), [4, 3])


def test_cubic_resize_matrix_is_opencv_cubic():
    m = cubic_resize_matrix(17, 272)
    np.testing.assert_allclose(m.sum(1), 1.0, atol=1e-6)  # constants stay constant
    np.testing.assert_allclose(m, m[::-1, ::-1], atol=1e-6)  # symmetric about the centre
    # Output 8 sits at source coordinate (8.5)/16 - 0.5 = 0.03125: Keys a=-0.75 taps.
    t = 0.03125
    a = -0.75
    w_near = (a + 2) * t**3 - (a + 3) * t**2 + 1
    assert m[8, 0] == pytest.approx(
        w_near + (a * (1 + t) ** 3 - 5 * a * (1 + t) ** 2 + 8 * a * (1 + t) - 4 * a), abs=1e-6
    )  # noqa: E501


def test_got10k_toolkit_adapter(tmp_path, fc_tracker):
    from dsiam_jax.tracking.adapter import ToolkitTracker

    clip = Clip(n=6, seed=7)
    files = []
    for i, f in enumerate(clip.frames):
        files.append(str(tmp_path / f"{i:08d}.png"))
        Image.fromarray(f).save(files[-1])
    adapter = ToolkitTracker(fc_tracker, name="tiny")
    boxes, times = adapter.track(files, clip.boxes[0])
    ref = track_clip(fc_tracker, clip)
    np.testing.assert_allclose(boxes, ref.boxes, atol=1e-4)
    assert times.shape == (6,) and adapter.name == "tiny"
    try:
        from got10k.trackers import Tracker
    except ImportError:
        return
    assert isinstance(adapter, Tracker)


def test_cpu_conv_lowerings_used_by_tracking_are_equal():
    """The grouped-conv split and the batch-1 input-channel split (alexnet.py) change no result."""
    from jax import lax

    from dsiam_jax.models import alexnet

    rng = np.random.default_rng(0)
    dims = ("NHWC", "HWIO", "NHWC")
    x = jnp.asarray(rng.normal(size=(1, 13, 13, 96)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(5, 5, 48, 32)), jnp.float32)
    ref = lax.conv_general_dilated(
        x, k, (1, 1), "VALID", dimension_numbers=dims, feature_group_count=2
    )
    np.testing.assert_allclose(
        alexnet.grouped_conv_split(x, k, (1, 1), 2), ref, rtol=1e-5, atol=1e-3
    )
    k = jnp.asarray(rng.normal(size=(5, 5, 96, 32)), jnp.float32)
    ref = lax.conv_general_dilated(x, k, (1, 1), "VALID", dimension_numbers=dims)
    np.testing.assert_allclose(
        alexnet.input_split_conv(x, k, (1, 1), 48), ref, rtol=1e-5, atol=1e-3
    )
    ynn = M.Lowering.for_backend(conv_library="ynn")  # the input split is YNNPACK's
    assert ynn.input_chunk(1, 96, 5) == (48 if jax.default_backend() == "cpu" else 0)
    assert ynn.input_chunk(8, 96, 5) == 0 and ynn.input_chunk(1, 3, 11) == 0
    # End to end: batch 1 (split on CPU) equals the same crop inside a batch of 2 (no split).
    spec = M.ModelSpec(channels=(8, 96, 16, 16, 16), groups=(1,) * 5)
    net, v = M.build(spec, lowering=ynn), M.numpy_variables(spec)
    crops = jnp.asarray(rng.uniform(0, 255, (2, 127, 127, 3)), jnp.float32)
    one = M.search_branch(net, v, crops[:1])
    two = M.search_branch(net, v, crops)
    np.testing.assert_allclose(one[0], two[0], rtol=1e-4, atol=1e-3 * float(jnp.abs(two).max()))


@pytest.mark.parametrize("spec", [FC_SPEC, RPN_SPEC], ids=["siamfc", "siamrpn"])
def test_winograd_lowering_keeps_the_boxes(spec):
    # model.winograd=on puts every 3x3 conv of the tiny backbones through Winograd F(2x2,
    # 3x3); the boxes must stay those of the plain convs (float rounding only).
    model, clip = tiny_model(spec, seed=1), Clip(n=10, seed=1)
    off = track_clip(build_tracker(model, None, "jax", winograd="off"), clip)
    on = track_clip(build_tracker(model, None, "jax", winograd="on"), clip)
    np.testing.assert_allclose(on.boxes, off.boxes, atol=1e-3)
    np.testing.assert_allclose(on.scores, off.scores, atol=1e-4)


@pytest.mark.parametrize("spec", [FC_SPEC, RPN_SPEC], ids=["siamfc", "siamrpn"])
def test_batch1_tracker_on_eigen_tracks_like_ynnpack(spec):
    # On CPU the tracker's programs are compiled without YNNPACK (Eigen convs, plain
    # conv1, no Winograd: Lowering.library); the boxes must stay those of YNNPACK with
    # its lowerings (float rounding only), and the option must reach the compiler.
    model, clip = tiny_model(spec, seed=2), Clip(n=10, seed=2)
    auto = build_tracker(model, None, "jax")
    ynn = build_tracker(model, None, "jax", conv_library="ynn")
    a, b = track_clip(auto, clip), track_clip(ynn, clip)
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
    if jax.default_backend() != "cpu":
        return
    frame = jnp.asarray(clip.frames[0])
    state = auto.init(clip.frames[0], clip.boxes[0])

    def compiled_text(tracker):
        return tracker.track_jit.lower(tracker.params, state, frame).compile().as_text()

    assert "ynn_fusion" not in compiled_text(auto) and "ynn_fusion" in compiled_text(ynn)
