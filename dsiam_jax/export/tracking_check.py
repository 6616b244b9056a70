"""Tracking with each backend on the synthetic test split: accuracy change and box agreement.

`compare_backends(model, tracker_config, backends, sequences)` tracks the same
sequences (mode=export passes the synthetic test split: `dsiam_jax.jobs.export`) with the
JAX tracker and each onnxruntime variant (`dsiam_jax.export.onnx_backend`), and
reports per backend the success AUC, precision@20 and AO (dsiam_jax.evaluation
conventions), their change against JAX, the whole-step frames/s, and the largest
box difference to the JAX tracker's boxes (pixels, over all frames).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

BACKEND_OF_VARIANT = {"fp32": "onnx", "fp16": "onnx_fp16", "int8": "onnx_int8", "qdq": "onnx_qdq"}
SCORES = ("success_auc", "precision_20", "ao")


def compare_backends(
    model,
    tracker_config: Mapping[str, Any] | None,
    backends: Sequence[str],
    sequences: Sequence,
) -> dict[str, Any]:
    """`{'sequences', 'frames', backend: {scores, *_change, fps, max_box_diff_px}}`.

    `tracker_config`: the `config.tracker` section; `sequences`: objects with
    `name`, `boxes`, `visible`, `load_frame` (a `data_pipelines` Sequence).
    """
    from dsiam_jax.evaluation import metrics
    from dsiam_jax.tracking import build_tracker, frames_per_second, run_sequence

    results: dict[str, list] = {}
    out: dict[str, Any] = {
        "split": "synthetic/test",
        "sequences": len(sequences),
        "frames": int(sum(len(s) for s in sequences)),
    }
    for backend in ["jax", *[b for b in backends if b != "jax"]]:
        tracker = build_tracker(model, tracker_config, backend)
        results[backend] = [run_sequence(tracker, seq) for seq in sequences]
        per_seq = [
            metrics.sequence_metrics(r.boxes, s.boxes, getattr(s, "visible", None), r.image_size)
            for r, s in zip(results[backend], sequences)
        ]
        overall = metrics.aggregate(per_seq)
        row = {k: float(overall[k]) for k in SCORES}
        row["fps"] = frames_per_second(np.concatenate([r.times[1:] for r in results[backend]]))
        if backend != "jax":
            for k in SCORES:
                row[f"{k}_change"] = row[k] - out["jax"][k]
            diffs = [
                np.abs(r.boxes - j.boxes).max() for r, j in zip(results[backend], results["jax"])
            ]
            row["max_box_diff_px"] = float(max(diffs))
        out[backend] = row
    return out
