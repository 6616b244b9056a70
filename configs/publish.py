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
    return config
