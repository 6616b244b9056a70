"""Each loss term against hand-computed / NumPy values on tiny inputs; sharing gradients."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax.train import losses as L
from dsiam_jax.train import objective as O
from dsiam_jax.train.settings import DistillSettings, LossSettings

# Whole functions under jit: one compile instead of op-by-op dispatch (much faster on CPU).
objective = jax.jit(O.objective, static_argnames=("num_anchors", "loss", "distill"))


def softplus(x):
    return np.log1p(np.exp(x))


def np_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def test_siamfc_balanced_logistic_loss_by_hand():
    response = jnp.asarray([[[0.0, 1.0], [-1.0, 2.0]]])  # [1, 2, 2]
    pos = jnp.asarray([[[1.0, 0.0], [0.0, 0.0]]])
    # positive (logit 0) weight 1/2; three negatives 1/6 each: BCE(x, 0) = softplus(x)
    want = 0.5 * np.log(2) + (softplus(1) + softplus(-1) + softplus(2)) / 6
    np.testing.assert_allclose(L.siamfc_gt_loss(response, pos), [want], rtol=1e-6)


def test_rpn_cls_loss_balanced_and_plain():
    cls = jnp.asarray(np.random.default_rng(0).normal(size=(1, 2, 2, 1, 2)), jnp.float32)
    pos = jnp.asarray([[[[True], [False]], [[False], [False]]]])
    neg = jnp.asarray([[[[False], [True]], [[True], [False]]]])  # last anchor ignored
    lp = np_log_softmax(np.asarray(cls))[0, ..., 0, :]  # [2, 2, 2]
    ce_pos = -lp[0, 0, 1]
    ce_neg = [-lp[0, 1, 0], -lp[1, 0, 0]]
    np.testing.assert_allclose(
        L.rpn_cls_loss(cls, pos, neg, True), [0.5 * ce_pos + 0.25 * sum(ce_neg)], rtol=1e-5
    )
    np.testing.assert_allclose(
        L.rpn_cls_loss(cls, pos, neg, False), [(ce_pos + sum(ce_neg)) / 3], rtol=1e-5
    )


def test_rpn_rank_loss_by_hand():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(3, 2, 3, 2)) * 3  # [B, R, R, k] foreground log-odds
    iou = rng.uniform(size=f.shape)
    iou[2] = 0.0  # a negative pair: no positive
    pos, neg = iou > 0.6, iou < 0.3
    got = L.rpn_rank_loss(jnp.asarray(f, jnp.float32), jnp.asarray(pos), jnp.asarray(neg))
    want = []
    for b in range(3):
        num = sum(np.exp(v) for v, p in zip(f[b].ravel(), pos[b].ravel()) if p)
        den = sum(
            np.exp(v) for v, p, n in zip(f[b].ravel(), pos[b].ravel(), neg[b].ravel()) if p or n
        )
        want.append(-np.log(num / den) if num else 0.0)
    assert want[0] > 0 and want[2] == 0.0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # in the objective: gt = cls + 1.2 reg + w * rank, with rank over every anchor by IoU
    cls = np.stack([np.zeros_like(f), f], -1)  # log-odds f
    channels = np.concatenate([cls[..., 0], cls[..., 1]], -1)  # channel = class * k + anchor
    outputs = {"s": {
        "cls": jnp.asarray(channels, jnp.float32),
        "reg": jnp.zeros((3, 2, 3, 8)), "features": jnp.zeros((3, 4, 4, 1)),
    }}  # fmt: skip
    targets = {
        "pos": jnp.asarray(pos), "neg": jnp.asarray(neg),
        "delta": jnp.zeros((*f.shape, 4)), "iou": jnp.asarray(iou, jnp.float32),
    }  # fmt: skip
    _, terms = O.objective(outputs, targets, num_anchors=2, loss=LossSettings(rpn_rank_weight=0.5))
    np.testing.assert_allclose(terms["s/gt_rank"], np.mean(want), rtol=1e-5)
    np.testing.assert_allclose(
        terms["s/gt"], terms["s/gt_cls"] + 1.2 * terms["s/gt_reg"] + 0.5 * np.mean(want), rtol=1e-5
    )


def test_rpn_center_term_by_hand():
    """loss.rpn_center_weight: SiamFC's balanced logistic loss on each cell's best
    foreground log-odds, against SiamFC's radius labels (NumPy by hand)."""
    rng = np.random.default_rng(6)
    f = rng.normal(size=(2, 3, 3, 2)) * 2  # [B, R, R, k] foreground log-odds
    center_pos = np.zeros((2, 3, 3))
    center_pos[0, 1, 1] = center_pos[0, 1, 2] = 1.0  # example 1: a negative pair (no positive)
    cell = f.max(-1)
    want = []
    for b in range(2):
        p = center_pos[b].ravel()
        x = cell[b].ravel()
        bce = np.where(p > 0, softplus(-x), softplus(x))
        n_pos, n_neg = p.sum(), (1 - p).sum()
        w = np.where(p > 0, 0.5 / max(n_pos, 1), 0.5 / n_neg)
        want.append(np.sum(w * bce) / np.sum(w))
    cls = np.stack([np.zeros_like(f), f], -1)
    channels = np.concatenate([cls[..., 0], cls[..., 1]], -1)  # channel = class * k + anchor
    outputs = {"s": {
        "cls": jnp.asarray(channels, jnp.float32),
        "reg": jnp.zeros((2, 3, 3, 8)), "features": jnp.zeros((2, 4, 4, 1)),
    }}  # fmt: skip
    iou = rng.uniform(size=f.shape)
    targets = {
        "pos": jnp.asarray(iou > 0.6), "neg": jnp.asarray(iou < 0.3),
        "delta": jnp.zeros((*f.shape, 4)), "iou": jnp.asarray(iou, jnp.float32),
        "center_pos": jnp.asarray(center_pos, jnp.float32),
    }  # fmt: skip
    loss = LossSettings(rpn_center_weight=2.0)
    _, terms = O.objective(outputs, targets, num_anchors=2, loss=loss)
    np.testing.assert_allclose(terms["s/gt_center"], np.mean(want), rtol=1e-5)
    np.testing.assert_allclose(
        terms["s/gt"], terms["s/gt_cls"] + 1.2 * terms["s/gt_reg"] + 2.0 * np.mean(want), rtol=1e-5
    )
    _, off = O.objective(outputs, targets, num_anchors=2, loss=LossSettings())
    assert "s/gt_center" not in off


def giou_numpy(a, b):
    """GIoU of two (x0, y0, x1, y1) boxes, written out."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return inter / union - (hull - union) / hull


def test_rpn_giou_loss_against_decoded_pixel_boxes():
    """loss.rpn_reg_form='giou': 1 - GIoU of the boxes the deltas decode to on their
    anchor (pixel boxes computed here), mean over the positive anchors."""
    rng = np.random.default_rng(7)
    anchors = np.array([[130.0, 120.0, 64.0, 32.0], [90.0, 140.0, 37.0, 110.0]])  # cx cy w h
    pred = rng.normal(0, 0.3, size=(2, 4))
    target = rng.normal(0, 0.3, size=(2, 4))
    pred[1] = target[1] + [2.0, 0.0, 0.0, 0.0]  # disjoint boxes: GIoU < 0

    def pixels(d, anc):
        cx, cy = anc[0] + d[0] * anc[2], anc[1] + d[1] * anc[3]
        w, h = anc[2] * np.exp(d[2]), anc[3] * np.exp(d[3])
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    want = [giou_numpy(pixels(p, a), pixels(t, a)) for p, t, a in zip(pred, target, anchors)]
    assert want[1] < 0 < want[0] < 1
    got = L.delta_giou(jnp.asarray(pred, jnp.float32), jnp.asarray(target, jnp.float32))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    reg = jnp.asarray(pred[None, None], jnp.float32)[:, :, :, None]  # [1, 1, 2, 1, 4]
    delta = jnp.asarray(target[None, None], jnp.float32)[:, :, :, None]
    pos = jnp.asarray([[[[True], [True]]]])
    loss = L.rpn_reg_loss(reg, delta, pos, 1 / 9, form="giou")
    np.testing.assert_allclose(loss, [np.mean([1 - w for w in want])], rtol=1e-5)
    same = L.rpn_reg_loss(delta, delta, pos, 1 / 9, form="giou")
    np.testing.assert_allclose(same, [0.0], atol=1e-6)


def test_rpn_reg_loss_smooth_l1():
    reg = jnp.zeros((1, 1, 2, 1, 4))
    delta = jnp.asarray([[[[[0.05, -0.5, 2.0, 0.0]], [[9.0, 9.0, 9.0, 9.0]]]]])
    pos = jnp.asarray([[[[True], [False]]]])
    beta = 1 / 9
    want = 0.5 * 0.05**2 / beta + (0.5 - 0.5 * beta) + (2.0 - 0.5 * beta)  # one positive
    np.testing.assert_allclose(L.rpn_reg_loss(reg, delta, pos, beta), [want], rtol=1e-6)
    assert float(L.rpn_reg_loss(reg, delta, jnp.zeros_like(pos), beta)[0]) == 0.0


def test_kl_terms_against_numpy():
    rng = np.random.default_rng(1)
    t, s = rng.normal(size=(3, 5)) * 2, rng.normal(size=(3, 5)) * 2
    for temp in (1.0, 2.0):
        p = 1 / (1 + np.exp(-t / temp))
        q = 1 / (1 + np.exp(-s / temp))
        want = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
        np.testing.assert_allclose(
            L.binary_kl(jnp.asarray(t), jnp.asarray(s), temp), want, rtol=1e-4, atol=1e-6
        )
    t2, s2 = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    lp, lq = np_log_softmax(t2 / 2), np_log_softmax(s2 / 2)
    want = (np.exp(lp) * (lp - lq)).sum(-1)
    np.testing.assert_allclose(
        L.categorical_kl(jnp.asarray(t2), jnp.asarray(s2), 2.0), want, rtol=1e-4, atol=1e-6
    )


def test_background_suppressed_soft_loss_by_hand():
    kl = jnp.asarray([[1.0, 2.0, 3.0, 4.0]])
    gt_bg = jnp.asarray([[False, True, True, True]])  # position 0 is a GT positive
    teacher_fg = jnp.asarray([[0.9, 0.05, 0.5, 0.01]])  # position 2: teacher says target
    w = L.background_weights(gt_bg, teacher_fg, beta=0.1, rho=0.1)
    np.testing.assert_allclose(w, [[1.0, 0.1, 1.0, 0.1]], rtol=1e-6)
    want = 4 * (1 + 0.2 + 3 + 0.4) / 2.2  # T^2 * weighted mean, T = 2
    np.testing.assert_allclose(L.soft_loss(kl, w, 2.0), [want], rtol=1e-6)


def test_bounded_regression_zero_where_student_beats_teacher():
    delta = jnp.zeros((1, 1, 3, 1, 4))
    pos = jnp.ones((1, 1, 3, 1), bool)
    student = jnp.asarray([[[[[0.1, 0, 0, 0]], [[1.0, 0, 0, 0]], [[0.5, 0.5, 0, 0]]]]])
    teacher = jnp.asarray([[[[[0.5, 0, 0, 0]], [[0.2, 0, 0, 0]], [[0.6, 0.6, 0, 0]]]]])
    # e_s = .01, 1, .5; e_t = .25, .04, .72: only anchor 1 is worse than the teacher
    np.testing.assert_allclose(
        L.bounded_regression(student, teacher, delta, pos), [1.0 / 3], rtol=1e-6
    )
    better = L.bounded_regression(
        student[:, :, :1], teacher[:, :, :1], delta[:, :, :1], pos[:, :, :1]
    )
    assert float(better[0]) == 0.0
    # a margin of 0.3 also penalises anchors 0 (.01 + .3 > .25) and 2 (.5 + .3 > .72)
    np.testing.assert_allclose(
        L.bounded_regression(student, teacher, delta, pos, margin=0.3), [1.51 / 3], rtol=1e-6
    )
    # no gradient into the bound, the student's gradient only where active
    g_s, g_t = jax.grad(lambda s, t: L.bounded_regression(s, t, delta, pos).sum(), (0, 1))(
        student, teacher
    )
    assert float(jnp.abs(g_t).max()) == 0.0
    np.testing.assert_allclose(g_s[0, 0, :, 0, 0], [0.0, 2 * 1.0 / 3, 0.0], rtol=1e-6)


def test_hint_loss_through_adapter():
    rng = np.random.default_rng(2)
    feat = rng.normal(size=(2, 3, 3, 4)).astype(np.float32)
    target = rng.normal(size=(2, 3, 3, 6)).astype(np.float32)
    adapter = {k: np.asarray(v) for k, v in L.init_adapter(jax.random.key(0), 4, 6).items()}
    adapted = feat @ adapter["kernel"] + adapter["bias"]
    want = ((adapted - target) ** 2).mean(axis=(1, 2, 3))
    got = L.hint_loss(L.adapt(adapter, jnp.asarray(feat)), jnp.asarray(target))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def fc_outputs(logits):
    return {"response": logits, "features": jnp.zeros((logits.shape[0], 1, 1, 1))}


@pytest.fixture
def two_students():
    rng = np.random.default_rng(3)
    pos = np.zeros((2, 3, 3), np.float32)
    pos[:, 1, 1] = 1
    params = {
        "student_0": jnp.asarray(rng.normal(size=(2, 3, 3)), jnp.float32),
        "student_1": jnp.asarray(rng.normal(size=(2, 3, 3)) * 3, jnp.float32),
    }
    return params, {"pos": jnp.asarray(pos)}


def test_conditional_sharing_learns_only_from_the_better_peer(two_students):
    params, targets = two_students
    d = DistillSettings(lambda_cls=0.0, lambda_reg=0.0, alpha=0.0, gamma=1.0)
    outputs = {n: fc_outputs(p) for n, p in params.items()}
    total, terms = objective(outputs, targets, num_anchors=1, loss=LossSettings(), distill=d)
    assert "student_0/soft" not in terms  # lambda_cls = 0: switched off, not computed
    gt = {n: float(terms[f"{n}/gt"]) for n in params}
    better, worse = sorted(gt, key=gt.get)
    assert float(terms[f"{better}/share"]) == 0.0  # alpha = 0: ignores the worse peer
    # the worse one: mean over cells of KL(sigmoid(peer) || sigmoid(own)), T = 1
    p = 1 / (1 + np.exp(-np.asarray(params[better], np.float64)))
    q = 1 / (1 + np.exp(-np.asarray(params[worse], np.float64)))
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    np.testing.assert_allclose(terms[f"{worse}/share"], kl.mean(), rtol=1e-5)
    np.testing.assert_allclose(terms[f"{worse}/total"], gt[worse] + kl.mean(), rtol=1e-5)
    np.testing.assert_allclose(total, sum(gt.values()) + kl.mean(), rtol=1e-5)
    # alpha = 0.5: the better student also listens to the worse one, at half weight
    _, terms_a = objective(
        outputs,
        targets,
        num_anchors=1,
        loss=LossSettings(),
        distill=dataclasses.replace(d, alpha=0.5),
    )
    np.testing.assert_allclose(
        terms_a[f"{better}/share"],
        0.5 * (q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))).mean(),
        rtol=1e-5,
    )


def test_sharing_gives_no_gradient_to_the_peer(two_students):
    params, targets = two_students
    d = DistillSettings(lambda_cls=0.0, lambda_reg=0.0, alpha=1.0, gamma=1.0)

    def share_of(name, params):
        outputs = {n: fc_outputs(p) for n, p in params.items()}
        _, terms = objective(outputs, targets, num_anchors=1, loss=LossSettings(), distill=d)
        return terms[f"{name}/share"]

    for me, peer in (("student_0", "student_1"), ("student_1", "student_0")):
        grads = jax.grad(lambda p, me=me: share_of(me, p))(params)
        assert float(jnp.abs(grads[peer]).max()) == 0.0
        assert float(jnp.abs(grads[me]).max()) > 0.0


def test_distillation_total_and_switches():
    rng = np.random.default_rng(4)
    k = 1
    cls = jnp.asarray(rng.normal(size=(2, 3, 3, 2 * k)), jnp.float32)
    reg = jnp.asarray(rng.normal(size=(2, 3, 3, 4 * k)), jnp.float32)
    feats = jnp.asarray(rng.normal(size=(2, 4, 4, 3)), jnp.float32)
    teacher = {"cls": cls * 2, "reg": reg * 0.5, "features": jnp.ones((2, 4, 4, 5))}
    pos = np.zeros((2, 3, 3, k), bool)
    pos[:, 1, 1] = True
    targets = {
        "pos": jnp.asarray(pos),
        "neg": jnp.asarray(~pos),
        "delta": jnp.zeros((2, 3, 3, k, 4)),
    }
    adapters = {"s": L.init_adapter(jax.random.key(0), 3, 5)}
    d = DistillSettings(lambda_cls=0.5, lambda_reg=2.0, lambda_hint=3.0, soft_form="pointwise")
    total, terms = objective(
        {"s": {"cls": cls, "reg": reg, "features": feats}},
        targets,
        num_anchors=k,
        loss=LossSettings(),
        distill=d,
        teacher_outputs=teacher,
        adapters=adapters,
    )
    assert "s/share" not in terms  # one student: no sharing
    want = terms["s/gt"] + 0.5 * terms["s/soft"] + 2.0 * terms["s/bound"] + 3.0 * terms["s/hint"]
    np.testing.assert_allclose(total, want, rtol=1e-6)
    np.testing.assert_allclose(
        terms["s/gt"], terms["s/gt_cls"] + 1.2 * terms["s/gt_reg"], rtol=1e-6
    )
    _, off = objective(
        {"s": {"cls": cls, "reg": reg, "features": feats}},
        targets,
        num_anchors=k,
        loss=LossSettings(),
        distill=DistillSettings(lambda_cls=0, lambda_reg=0, lambda_hint=0),
        teacher_outputs=teacher,
    )
    assert sorted(off) == ["s/gt", "s/gt_cls", "s/gt_reg", "s/total"]


def test_spatial_kl_by_hand():
    # Two cells per map: teacher logits (0, ln 3) -> p = (1/4, 3/4); student (0, 0) -> q = 1/2.
    t = jnp.asarray([[0.0, np.log(3.0)]])
    s = jnp.zeros((1, 2))
    want = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)
    np.testing.assert_allclose(L.spatial_kl(t, s, 1.0), [want], rtol=1e-6)
    # A constant offset of the student's logits changes nothing (softmax over cells).
    np.testing.assert_allclose(L.spatial_kl(t, s + 5.0, 1.0), [want], rtol=1e-5)
    # At T=2 the teacher's logits are halved: p = softmax(0, ln 3 / 2).
    p = np.exp([0.0, np.log(3.0) / 2]) / np.exp([0.0, np.log(3.0) / 2]).sum()
    want2 = float(np.sum(p * np.log(p / 0.5)))
    np.testing.assert_allclose(L.spatial_kl(t, s, 2.0), [want2], rtol=1e-6)


def test_balanced_weights_by_hand():
    # One positive and three background cells (one of them suppressed to beta = 0.1):
    # the positive gets 1/2, the background cells share 1/2 in the ratio 1 : 1 : 0.1.
    gt_bg = jnp.asarray([[False, True, True, True]])
    w = jnp.asarray([[1.0, 1.0, 1.0, 0.1]])
    want = [[0.5, 0.5 / 2.1, 0.5 / 2.1, 0.05 / 2.1]]
    np.testing.assert_allclose(L.balanced_weights(gt_bg, w), want, rtol=1e-6)
    # A negative pair (no positive) keeps its weights.
    all_bg = jnp.ones((1, 4), bool)
    np.testing.assert_allclose(L.balanced_weights(all_bg, w), w, rtol=0)


def test_spatial_soft_term_in_the_objective(two_students):
    # soft_form='spatial': soft = T^2 * KL(softmax_cells(t / T) || softmax_cells(s / T)).
    params, targets = two_students
    teacher, student = params["student_1"], params["student_0"]
    d = DistillSettings(lambda_cls=1.0, share=False, soft_form="spatial", temperature=2.0)
    _, terms = objective(
        {"s": fc_outputs(student)},
        targets,
        num_anchors=1,
        loss=LossSettings(),
        distill=d,
        teacher_outputs=fc_outputs(teacher),
    )
    t = np.asarray(teacher, np.float64).reshape(2, -1) / 2
    s = np.asarray(student, np.float64).reshape(2, -1) / 2
    p = np.exp(t) / np.exp(t).sum(-1, keepdims=True)
    q = np.exp(s) / np.exp(s).sum(-1, keepdims=True)
    want = 4 * np.mean(np.sum(p * np.log(p / q), -1))
    np.testing.assert_allclose(terms["s/soft"], want, rtol=1e-5)
