"""mode=export: ONNX / TFLite graphs of a trained checkpoint (see dsiam_jax/export).

    python -m dsiam_jax.main --config=configs/export.py --config.checkpoint=W2 --workdir=W6

The checkpoint records each model's kind, head and channels; crop sizes and the
number of SiamFC scales come from `config.tracker` (as the tracker runs them).
"""

from __future__ import annotations

import ml_collections

from configs import default


def export_config() -> ml_collections.ConfigDict:
    """Export settings."""
    e = ml_collections.ConfigDict()
    # Comma-separated: fp32 (always written) | fp16 (weight storage) | int8 (weight-only)
    # | qdq (int8 weights and activations, calibrated on real crops).
    e.variants = "fp32,fp16,int8,qdq"
    e.threads = 2  # onnxruntime intra-op threads for the checks and timings
    e.tolerance = 1e-4  # max |onnx - jax| / max |jax| allowed for the fp32 graphs
    e.real_inputs = True  # parity on crops of real photographs (needs scikit-image)
    # Track this many synthetic test sequences (config.data.synthetic) with JAX and each
    # onnxruntime variant: accuracy change and box agreement in export.json; 0 = skip.
    e.eval_sequences = 8
    e.benchmark_repeats = 10  # timed calls per measurement; 0 = no timings
    e.tflite = True  # also write .tflite files when TensorFlow is installed
    return e


def get_config() -> ml_collections.ConfigDict:
    c = default.get_config()
    c.mode = "export"
    c.export = export_config()
    return c
