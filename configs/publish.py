"""Publish trained models as slim checkpoints (mode=publish), e.g. into zoo/.

    python -m dsiam_jax.main --config=configs/publish.py --config.checkpoint=W2 \
        --config.publish.prefix=siamfc_ --workdir=zoo
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "publish"
    config.publish = ml_collections.ConfigDict()
    config.publish.prefix = ""  # prepended to each model's name (the zoo folder name)
    config.publish.overwrite = False  # replace an existing folder of that name
    # Track this many synthetic test sequences with JAX and with the int8 (QDQ)
    # onnxruntime graphs and record the accuracy change in the published model
    # (info['backend_check']): config.backend=auto uses int8 for it on CPU when the
    # success AUC changes by at most 0.005 (tracking.network.QUANTIZED_AUC_TOLERANCE).
    # 0 = no check (auto then stays on float32).
    config.publish.check_sequences = 0
    return config
