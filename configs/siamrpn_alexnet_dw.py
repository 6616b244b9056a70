"""SiamRPN with the depthwise-correlation head (SiamRPN++ / pysot `siamrpn_alex_dwxcorr`).

pysot's AlexNet widths 96-256-384-384-256 without groups, BatchNorm after conv5,
DepthwiseRPN head of width 256, k=5 anchors.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamrpn", "depthwise")
    config.model.channels = (96, 256, 384, 384, 256)
    config.data.negative_prob = 0.2
    return config
