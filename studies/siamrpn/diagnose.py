"""Why the SiamRPN family tracks barely better than a box that never moves (issue 14).

    python -m studies.siamrpn.diagnose --models=siamrpn_student_0,siamrpn_student_1 \
        --siamfc=siamfc_student_0 --out=studies/siamrpn/results [--pairs=256] \
        [--sweep=window_influence:0,0.1,0.2,0.42] [--sequences=64]

Measurements (each model in inference mode unless said otherwise):
1. `localisation`: on held-out pairs of the pair pipeline (synthetic `--split`, a
   sampling `--seed` no training run uses, no negative pairs), at the training crop
   (127 / 255) and at the tracking crop (127 / `--track_search`): where the top-scoring
   anchor sits (decoded IoU with the target > 0.5, centre error), the foreground
   probability there, at the best-matching anchor and at the positives (IoU > 0.6),
   and how good the regression is at the best-matching anchor alone (the decoded
   box's IoU, whatever the classifier says). A SiamFC model gives the reference
   "peak within 16 px of the target centre".
2. `bn_gap`: the ground-truth loss (the training objective's `gt_cls`, `gt_reg`) on
   the same pairs with BatchNorm in inference and in batch mode.
3. `tracking`: success AUC on the synthetic test sequences against tracker settings
   (`--sweep=field:v1,v2,...` over `config.tracker.siamrpn`, one field per sweep,
   several sweeps separated by `;`), with the best score per frame (10/50/90%).
4. `template_swap` (`--template_swap`, alone): each search crop scored with its own
   and with another pair's template; how alike the two maps are (a map that does not
   depend on the template cannot tell the target from distractors).
Writes `<out>/diagnose.json` (merged with what an earlier run wrote there).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from configs import default
from dsiam_jax import anchors as anchors_lib
from dsiam_jax import checkpoints
from dsiam_jax import models as M
from dsiam_jax.evaluation.metrics import aggregate, sequence_metrics
from dsiam_jax.tracking import build_tracker
from dsiam_jax.train import objective, targets
from dsiam_jax.train.settings import LossSettings

TEMPLATE = 127
TRAIN_SEARCH = 255


def held_out_pairs(num: int, search_size: int, seed: int, split: str) -> dict[str, np.ndarray]:
    """`num` pairs of the pair pipeline (no negatives) on the synthetic `split`:
    `template [N, 127, 127, 3]`, `search [N, S, S, 3]` (float32), `box [N, 4]` (x, y, w, h)."""
    from data_pipelines import pairs, sampling  # TensorFlow-free path of the pipeline

    data = default.data_config()
    data.template_size, data.search_size, data.split = TEMPLATE, search_size, split
    data.negative_prob = 0.0
    sampler = pairs.make_sampler(data, seed)
    out = [sampling.pair_numpy(sampler, g) for g in range(num)]
    batch = {k: np.stack([o[k] for o in out]) for k in ("template", "search", "box")}
    batch["template"] = batch["template"].astype(np.float32)
    batch["search"] = batch["search"].astype(np.float32)
    return batch


def network_outputs(model, batch: dict, train: bool = False, chunk: int = 32) -> dict:
    """The network's raw outputs on `batch` (BatchNorm in batch mode per chunk if `train`)."""
    net = M.build(model.spec)

    def fwd(v, z, x):
        out = M.forward(net, v, z, x, train=train)
        return out[0] if train else out

    fwd = jax.jit(fwd)
    parts = []
    for i in range(0, len(batch["box"]), chunk):
        z, x = batch["template"][i : i + chunk], batch["search"][i : i + chunk]
        out = fwd(model.variables, z, x)
        parts.append({k: np.asarray(v) for k, v in out.items() if k != "features"})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def quantiles(x: np.ndarray) -> list[float]:
    """The 10/50/90% quantiles of `x`, rounded."""
    return [round(float(v), 4) for v in np.quantile(x, (0.1, 0.5, 0.9))]


def rpn_localisation(model, batch: dict, search_size: int, batch_bn: bool = False) -> dict:
    """Top-anchor localisation and score statistics of an RPN model on `batch`
    (`batch_bn`: BatchNorm normalises with each 32-pair chunk's statistics)."""
    spec = model.spec
    anchors = anchors_lib.anchors_for(spec, TEMPLATE, search_size)  # [R, R, k, 4]
    out = network_outputs(model, batch, train=batch_bn)
    cls, reg = anchors_lib.split_rpn_maps(out["cls"], out["reg"], spec.num_anchors)
    score = np.asarray(jax.nn.softmax(cls, -1)[..., 1])  # [N, R, R, k]
    boxes = np.asarray(anchors_lib.decode(reg, jnp.asarray(anchors)))  # [N, R, R, k, 4]
    target = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(batch["box"])))  # [N, 4]
    n = len(target)
    anchor_iou = np.asarray(anchors_lib.iou_cxcywh(anchors[None], target[:, None, None, None]))
    flat = score.reshape(n, -1)
    top = flat.argmax(1)
    best_anchor = anchor_iou.reshape(n, -1).argmax(1)
    box_flat = boxes.reshape(n, -1, 4)
    top_box = box_flat[np.arange(n), top]  # [N, 4]
    best_box = box_flat[np.arange(n), best_anchor]
    iou_top = np.asarray(anchors_lib.iou_cxcywh(top_box, target))
    iou_best = np.asarray(anchors_lib.iou_cxcywh(best_box, target))
    err_top = np.linalg.norm(top_box[:, :2] - target[:, :2], axis=1)
    top_anchor_err = np.linalg.norm(
        anchors.reshape(-1, 4)[top][:, :2] - target[:, :2], axis=1
    )  # where the chosen anchor is, before regression
    pos = anchor_iou > 0.6
    neg = anchor_iou < 0.3
    pos_scores = score[pos]
    far = np.where(neg, score, -1.0).reshape(n, -1).max(1)  # best score among negatives
    at_best = flat[np.arange(n), best_anchor]
    return {
        "search_size": search_size,
        "batch_bn": batch_bn,
        "num_pairs": n,
        "top_iou_gt_0.5": float(np.mean(iou_top > 0.5)),
        "top_iou_median": float(np.median(iou_top)),
        "top_center_error_px": quantiles(err_top),
        "top_center_within_16px": float(np.mean(err_top <= 16)),
        "top_anchor_center_error_px": quantiles(top_anchor_err),
        "top_on_positive_anchor": float(np.mean(pos.reshape(n, -1)[np.arange(n), top])),
        "best_anchor_decoded_iou": quantiles(iou_best),
        "best_anchor_decoded_iou_gt_0.5": float(np.mean(iou_best > 0.5)),
        "best_anchor_iou_before_regression": quantiles(anchor_iou.reshape(n, -1).max(1)),
        "score_top": quantiles(flat.max(1)),
        "score_at_best_anchor": quantiles(at_best),
        "score_positives": quantiles(pos_scores) if pos_scores.size else None,
        "score_best_negative": quantiles(far),
        "best_anchor_beats_negatives": float(np.mean(at_best > far)),
        "pairs_with_positive_anchor": float(np.mean(pos.reshape(n, -1).any(1))),
    }


def siamfc_localisation(model, batch: dict, search_size: int) -> dict:
    """Peak cell of a SiamFC response vs the target centre, in crop pixels."""
    out = network_outputs(model, batch)
    resp = out["response"]  # [N, R, R]
    n, r = resp.shape[0], resp.shape[1]
    cells = anchors_lib.cell_offsets(r) + search_size / 2
    peak = resp.reshape(n, -1).argmax(1)
    py, px = np.unravel_index(peak, (r, r))
    center = batch["box"][:, :2] + batch["box"][:, 2:] / 2
    err = np.hypot(cells[px] - center[:, 0], cells[py] - center[:, 1])
    return {
        "search_size": search_size,
        "num_pairs": int(n),
        "peak_within_16px": float(np.mean(err <= 16)),
        "peak_center_error_px": quantiles(err),
    }


def template_swap(model, batch: dict) -> dict:
    """How much the score map depends on the template: each search crop with its own
    template and with another pair's (rolled by one). Per pair: the correlation of the
    two foreground maps, and whether the top position is the same; and the score at the
    target's best position (best anchor / target cell) with the own and the other template."""
    swapped = dict(batch, template=np.roll(batch["template"], 1, axis=0))
    own, other = network_outputs(model, batch), network_outputs(model, swapped)
    n = len(batch["box"])
    if "response" in own:  # SiamFC: sigmoid of the response; target cell = nearest cell
        fg = [1 / (1 + np.exp(-o["response"].reshape(n, -1))) for o in (own, other)]
        r = own["response"].shape[1]
        cells = anchors_lib.cell_offsets(r) + batch["search"].shape[1] / 2
        c = batch["box"][:, :2] + batch["box"][:, 2:] / 2
        ix = np.abs(cells[None] - c[:, :1]).argmin(1)
        iy = np.abs(cells[None] - c[:, 1:]).argmin(1)
        target = iy * r + ix
    else:
        k = model.spec.num_anchors
        fg = []
        for o in (own, other):
            cls, _ = anchors_lib.split_rpn_maps(o["cls"], o["reg"], k)
            fg.append(np.asarray(jax.nn.softmax(cls, -1)[..., 1]).reshape(n, -1))
        anchors = anchors_lib.anchors_for(model.spec, TEMPLATE, batch["search"].shape[1])
        box = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(batch["box"])))
        iou = np.asarray(anchors_lib.iou_cxcywh(anchors[None], box[:, None, None, None]))
        target = iou.reshape(n, -1).argmax(1)
    corr = [np.corrcoef(fg[0][i], fg[1][i])[0, 1] for i in range(n)]
    rows = np.arange(n)
    return {
        "num_pairs": int(n),
        "map_correlation_own_vs_other": quantiles(np.asarray(corr)),
        "same_top_position": float(np.mean(fg[0].argmax(1) == fg[1].argmax(1))),
        "target_score_own_template": quantiles(fg[0][rows, target]),
        "target_score_other_template": quantiles(fg[1][rows, target]),
    }


def gt_loss(model, batch: dict, train: bool, seed: int = 0) -> dict:
    """The ground-truth loss terms (means over `batch`) with BatchNorm in eval or batch mode."""
    spec = model.spec
    loss = LossSettings()
    out = network_outputs(model, batch, train=train)
    anchors = anchors_lib.anchors_for(spec, TEMPLATE, batch["search"].shape[1])
    n = len(batch["box"])
    keys = jax.random.split(jax.random.key(seed), n)
    tg = targets.rpn_targets(
        keys, jnp.asarray(batch["box"]), jnp.zeros((n,), bool), anchors,
        loss.rpn_pos_iou, loss.rpn_neg_iou, loss.rpn_num_samples, loss.rpn_max_pos,
    )  # fmt: skip
    pred = objective.prediction(
        {"cls": out["cls"], "reg": out["reg"], "features": None}, spec.num_anchors
    )
    terms = objective.gt_terms(pred, tg, loss)
    return {k: round(float(jnp.mean(v)), 4) for k, v in terms.items()}


def synthetic_test_sequences(num: int) -> list:
    """The first `num` sequences of the synthetic test split (as `mode=evaluate` reads them)."""
    from data_pipelines import sequences, sources

    data = default.data_config()
    seqs = sequences.read_sequences("synthetic", "", "test", **sources.synthetic_kwargs(data))
    return seqs[:num] if num else seqs


def tracker_config(siamrpn: dict) -> dict:
    """The default `config.tracker` section with `siamrpn` overrides (`aspect_rate` 1
    and `num_scales` 1 unless overridden)."""
    cfg = default.tracker_config().to_dict()
    # pysot's size rule and single crop, the defaults when sections 1-32 and 1-41 ran
    # these tools (sections 33, 42); the hybrid maps are one crop's
    cfg["siamrpn"].update({"aspect_rate": 1.0, "num_scales": 1, **siamrpn})
    return cfg


def track(model, seqs: Sequence, siamrpn: dict, frames: list) -> dict:
    """Success AUC / precision over `seqs` with `config.tracker.siamrpn` overrides."""
    tracker = build_tracker(model, tracker_config(siamrpn))
    per_seq, scores = [], []
    for seq, imgs in zip(seqs, frames, strict=True):
        gt = np.asarray(seq.boxes, np.float64)
        state = tracker.init_jit(tracker.params, imgs[0], gt[0].astype(np.float32))
        pred = [gt[0]]
        for img in imgs[1:]:
            state, box, score = tracker.track_jit(tracker.params, state, img)
            pred.append(np.asarray(box, np.float64))
            scores.append(float(score))
        per_seq.append(sequence_metrics(np.asarray(pred), gt))
    agg = aggregate(per_seq)
    return {
        "settings": siamrpn,
        "success_auc": round(float(agg["success_auc"]), 4),
        "precision_20": round(float(agg["precision_20"]), 4) if "precision_20" in agg else None,
        "best_score": quantiles(np.asarray(scores)),
    }


def static_box(seqs: Sequence) -> float:
    """Success AUC of a box that never moves."""
    per = [
        sequence_metrics(np.repeat(np.asarray(s.boxes[:1], np.float64), len(s.boxes), 0),
                         np.asarray(s.boxes, np.float64))
        for s in seqs
    ]  # fmt: skip
    return round(float(aggregate(per)["success_auc"]), 4)


def load_labelled(path_or_name: str) -> dict:
    """The models of a checkpoint by label: the model name for a zoo name, else
    `<folder name>:<model name>` (two runs may both hold a `siamrpn_teacher`)."""
    out = {}
    for name, model in checkpoints.load_models(path_or_name).items():
        out[name if name == path_or_name else f"{pathlib.Path(path_or_name).name}:{name}"] = model
    return out


def parse_sweeps(text: str) -> list[tuple[str, list[float]]]:
    """`"window_influence:0,0.2;lr:0.3,1"` -> [(field, values), ...]."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        field, _, values = part.partition(":")
        out.append((field.strip(), [float(v) for v in values.split(",") if v.strip()]))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="siamrpn_student_0", help="RPN checkpoints / zoo names")
    p.add_argument("--siamfc", default="", help="SiamFC models, the localisation reference")
    p.add_argument("--out", default="studies/siamrpn/results")
    p.add_argument("--tag", default="", help="key prefix of this run's entries in the JSON")
    p.add_argument("--pairs", type=int, default=256)
    p.add_argument("--seed", type=int, default=7919, help="pair sampling seed (held out)")
    p.add_argument("--split", default="test", help="synthetic split of the pairs")
    p.add_argument("--track_search", type=int, default=271)
    p.add_argument("--sweep", default="", help="field:v1,v2;field2:... (config.tracker.siamrpn)")
    p.add_argument("--sequences", type=int, default=64, help="test sequences (0 = all)")
    p.add_argument("--skip_pairs", action="store_true", help="only the tracking sweep")
    p.add_argument(
        "--template_swap", action="store_true", help="only the template-dependence measurement"
    )
    args = p.parse_args(argv)

    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "diagnose.json"
    results = json.loads(path.read_text()) if path.exists() else {}

    def save():
        path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")

    models = {}
    for path_or_name in filter(None, args.models.split(",")):
        models.update(load_labelled(path_or_name))
    if args.template_swap:
        batch = held_out_pairs(args.pairs, TRAIN_SEARCH, args.seed, args.split)
        fc = {}
        for fc_name in filter(None, args.siamfc.split(",")):
            fc.update(load_labelled(fc_name))
        for name, model in {**models, **fc}.items():
            entry = results.setdefault(args.tag + name, {})
            entry["template_swap"] = template_swap(model, batch)
            print(name, entry["template_swap"], flush=True)
            save()
        return
    if not args.skip_pairs:
        sizes = (TRAIN_SEARCH, args.track_search)
        batches = {s: held_out_pairs(args.pairs, s, args.seed, args.split) for s in sizes}
        for name, model in models.items():
            entry = results.setdefault(args.tag + name, {})
            entry["localisation"] = [rpn_localisation(model, batches[s], s) for s in sizes]
            entry["localisation"].append(
                rpn_localisation(model, batches[TRAIN_SEARCH], TRAIN_SEARCH, batch_bn=True)
            )
            entry["bn_gap"] = {
                "inference_bn": gt_loss(model, batches[TRAIN_SEARCH], train=False),
                "batch_bn": gt_loss(model, batches[TRAIN_SEARCH], train=True),
            }
            print(name, json.dumps(entry, indent=1), flush=True)
            save()
        for fc_name in filter(None, args.siamfc.split(",")):
            for name, model in load_labelled(fc_name).items():
                entry = results.setdefault(args.tag + name, {})
                entry["localisation"] = [siamfc_localisation(model, batches[TRAIN_SEARCH], 255)]
                print(name, json.dumps(entry, indent=1), flush=True)
                save()
    sweeps = parse_sweeps(args.sweep)
    if sweeps:
        seqs = synthetic_test_sequences(args.sequences)
        frames = [[s.load_frame(i) for i in range(len(s.boxes))] for s in seqs]
        results["static_box_auc"] = static_box(seqs)
        for name, model in models.items():
            rows = results.setdefault(args.tag + name, {}).setdefault("tracking", [])
            for field, values in sweeps:
                for v in values:
                    t0 = time.time()
                    row = track(model, seqs, {field: v}, frames)
                    row["sequences"] = len(seqs)
                    rows.append(row)
                    print(name, row, f"{time.time() - t0:.0f}s", flush=True)
                    save()


if __name__ == "__main__":
    main()
