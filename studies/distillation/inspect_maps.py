"""What the teacher's response maps carry beyond the labels (distillation study).

    python -m studies.distillation.inspect_maps --teacher=W1 [--students=W2,W3] \
        --out=studies/distillation/results [--pairs=6] [--stats_pairs=256]

On training pairs of the synthetic data (the pair pipeline, `configs/default.py`'s
data section, seed 0), reports the teacher's logit range and what the soft targets
look like at the temperatures and background thresholds the study varies:
- logit quantiles over all positions, at the label-positive positions, and at the
  negatives;
- the soft-target mass outside the label's positive disc (teacher probability at T,
  summed over negatives, against the positives' sum): how much of the soft loss is
  about something the label does not already say;
- the share of negatives that background suppression (teacher probability < rho)
  down-weights, and how much of the off-target mass sits in the suppressed cells.
Writes `maps.json` and `maps.png` (template, search crop, label, teacher and student
response maps at T for a few pairs).
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import jax
import numpy as np

from configs import default
from dsiam_jax import checkpoints
from dsiam_jax import models as M
from dsiam_jax.anchors import response_size
from dsiam_jax.train import targets as targets_lib

TEMPERATURES = (1.0, 2.0, 4.0)
RHOS = (0.05, 0.1, 0.3)


def sample_pairs(num_pairs: int, template_size: int, search_size: int, seed: int = 0) -> dict:
    """`num_pairs` training pairs (examples 0..n-1 of the pair pipeline's sampler)."""
    from data_pipelines import pairs, sampling  # TensorFlow-free path of the pipeline

    data = default.data_config()
    data.template_size, data.search_size = template_size, search_size
    sampler = pairs.make_sampler(data, seed)
    out = [sampling.pair_numpy(sampler, g) for g in range(num_pairs)]
    return {k: np.stack([o[k] for o in out]) for k in ("template", "search", "box", "negative")}


def responses(model: M.TrackerModel, batch: dict, chunk: int = 16) -> np.ndarray:
    """SiamFC response logits `[N, R, R]` of a model in inference mode."""
    net = M.build(model.spec)
    fwd = jax.jit(lambda v, z, x: M.forward(net, v, z, x)["response"])
    parts = []
    for i in range(0, len(batch["template"]), chunk):
        z = np.asarray(batch["template"][i : i + chunk], np.float32)
        x = np.asarray(batch["search"][i : i + chunk], np.float32)
        parts.append(np.asarray(fwd(model.variables, z, x)))
    return np.concatenate(parts)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def map_statistics(logits: np.ndarray, pos: np.ndarray) -> dict:
    """Logit quantiles and soft-target mass on / off the label for a teacher's maps.

    `logits`, `pos`: `[N, R, R]`; `pos` is the label's positive disc (1 / 0).
    """
    q = (0.0, 0.01, 0.5, 0.99, 1.0)
    is_pos, is_neg = pos > 0, pos <= 0
    stats: dict = {
        "num_pairs": int(len(logits)),
        "logit_quantiles": {"q": list(q), "all": np.quantile(logits, q).tolist()},
        "positives": np.quantile(logits[is_pos], q).tolist() if is_pos.any() else None,
        "negatives": np.quantile(logits[is_neg], q).tolist(),
        "peak_on_label": float(
            np.mean([pos[i].ravel()[np.argmax(logits[i])] > 0 for i in range(len(logits))])
        ),
        "temperatures": {},
    }
    for t in TEMPERATURES:
        p = sigmoid(logits / t)
        neg_mass = float(np.mean((p * is_neg).sum((1, 2))))
        pos_mass = float(np.mean((p * is_pos).sum((1, 2))))
        row = {"mass_on_label": pos_mass, "mass_off_label": neg_mass, "rho": {}}
        p1 = sigmoid(logits)  # suppression thresholds the untempered probability
        for rho in RHOS:
            suppressed = is_neg & (p1 < rho)
            row["rho"][str(rho)] = {
                "negatives_suppressed": float(suppressed.sum() / max(is_neg.sum(), 1)),
                "off_label_mass_suppressed": float(
                    (p * suppressed).sum() / max((p * is_neg).sum(), 1e-12)
                ),
            }
        stats["temperatures"][str(t)] = row
    return stats


def plot_maps(path: pathlib.Path, batch: dict, pos: np.ndarray, maps: dict, t: float, n: int):
    """A grid: template, search, label, then each model's response at temperature t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 3 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(2.1 * cols, 2.1 * n), squeeze=False)
    for i in range(n):
        row = axes[i]
        row[0].imshow(batch["template"][i].astype(np.uint8))
        row[1].imshow(batch["search"][i].astype(np.uint8))
        x, y, w, h = batch["box"][i]
        row[1].add_patch(plt.Rectangle((x, y), w, h, fill=False, color="lime", lw=1))
        row[2].imshow(pos[i], vmin=0, vmax=1, cmap="viridis")
        for j, (name, logits) in enumerate(maps.items()):
            row[3 + j].imshow(sigmoid(logits[i] / t), vmin=0, vmax=1, cmap="viridis")
            if i == 0:
                row[3 + j].set_title(f"{name} (T={t:g})", fontsize=8)
        if i == 0:
            for ax, title in zip(row, ("template", "search", "label"), strict=False):
                ax.set_title(title, fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(
    teacher: str,
    students: Sequence[str],
    out: str,
    num_pairs: int = 6,
    stats_pairs: int = 256,
    template_size: int = 127,
    search_size: int = 255,
) -> dict:
    """Writes `maps.json` and `maps.png` under `out`; returns the statistics."""
    out_dir = pathlib.Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (teacher_model,) = checkpoints.load_models(teacher).values()
    batch = sample_pairs(max(num_pairs, stats_pairs), template_size, search_size)
    size = response_size(teacher_model.spec, template_size, search_size)
    loss = default.loss_config()
    pos = np.asarray(
        targets_lib.siamfc_labels(
            batch["box"], batch["negative"], size, search_size, loss.siamfc_radius, "euclidean"
        )
    )
    maps = {"teacher": responses(teacher_model, batch)}
    for path in students:
        for name, model in checkpoints.load_models(path).items():
            maps[name] = responses(model, batch)
    result = {name: map_statistics(logits, pos) for name, logits in maps.items()}
    (out_dir / "maps.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_maps(out_dir / "maps.png", batch, pos, maps, t=2.0, n=min(num_pairs, len(pos)))
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--students", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--stats_pairs", type=int, default=256)
    args = parser.parse_args(argv)
    students = [s for s in args.students.split(",") if s]
    result = run(args.teacher, students, args.out, args.pairs, args.stats_pairs)
    for name, s in result.items():
        t2 = s["temperatures"]["2.0"]
        print(
            f"{name}: logits [{s['logit_quantiles']['all'][0]:.2f}, "
            f"{s['logit_quantiles']['all'][-1]:.2f}], peak on label {s['peak_on_label']:.2f}, "
            f"T=2 mass on/off label {t2['mass_on_label']:.2f}/{t2['mass_off_label']:.2f}"
        )


if __name__ == "__main__":
    main()
