"""SiamFC with the AlexNet backbone (96-256-384-384-256, groups as in SiamFC).

2.34 M parameters, 9.35 MB fp32. A student is the same config with other widths:
    --config.model.channels="(24,64,96,96,64)"
Default job: train this network on its ground-truth loss (mode=train).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamfc")
    return config
