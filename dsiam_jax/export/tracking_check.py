"""Tracking with each backend on the synthetic test split: accuracy change and box agreement.

`compare_backends(model, config, backends, num_sequences)` tracks the same
synthetic test sequences (`config.data.synthetic` geometry, split 'test') with the
JAX tracker and each onnxruntime variant (`dsiam_jax.export.onnx_backend`), and
reports per backend the success AUC, precision@20 and AO (dsiam_jax.evaluation
conventions), their change against JAX, the whole-step frames/s, and the largest
box difference to the JAX tracker's boxes (pixels, over all frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ml_collections
import numpy as np

BACKEND_OF_VARIANT = {"fp32": "onnx", "fp16": "onnx_fp16", "int8": "onnx_int8", "qdq": "onnx_qdq"}
SCORES = ("success_auc", "precision_20", "ao")


def synthetic_test_sequences(config: ml_collections.ConfigDict, num_sequences: int) -> list:
    """The first `num_sequences` sequences of the synthetic test split (no TensorFlow)."""
    from data_pipelines.sequences import read_sequences

    s = config.data.synthetic
    return read_sequences(
        "synthetic",
        "",
        "test",
        num_sequences=int(num_sequences),
        sequence_length=int(s.sequence_length),
        frame_size=tuple(s.frame_size),
        seed=int(s.seed),
    )


def compare_backends(
    model,
    config: ml_collections.ConfigDict,
    backends: Sequence[str],
    num_sequences: int,
) -> dict[str, Any]:
    """`{'sequences', 'frames', backend: {scores, *_change, fps, max_box_diff_px}}`."""
    from dsiam_jax.evaluation import metrics
    from dsiam_jax.tracking import build_tracker, run_sequence

    sequences = synthetic_test_sequences(config, num_sequences)
    results: dict[str, list] = {}
    out: dict[str, Any] = {
        "split": "synthetic/test",
        "sequences": len(sequences),
        "frames": int(sum(len(s) for s in sequences)),
    }
    for backend in ["jax", *[b for b in backends if b != "jax"]]:
        tracker = build_tracker(model, config.tracker, backend)
        results[backend] = [run_sequence(tracker, seq) for seq in sequences]
        per_seq = [
            metrics.sequence_metrics(r.boxes, s.boxes, getattr(s, "visible", None), r.image_size)
            for r, s in zip(results[backend], sequences)
        ]
        overall = metrics.aggregate(per_seq)
        times = np.concatenate([r.times[1:] for r in results[backend]])
        row = {k: float(overall[k]) for k in SCORES}
        row["fps"] = float(len(times) / times.sum()) if times.sum() > 0 else float("nan")
        if backend != "jax":
            for k in SCORES:
                row[f"{k}_change"] = row[k] - out["jax"][k]
            diffs = [
                np.abs(r.boxes - j.boxes).max() for r, j in zip(results[backend], results["jax"])
            ]
            row["max_box_diff_px"] = float(max(diffs))
        out[backend] = row
    return out
