"""SiamRPN with the big AlexNet (192-512-768-768-512) and the up-channel RPN head, k=5.

The paper's 361.8 MB teacher (90.4 M parameters). Search crops are 255 in training
and 271 in tracking. Default job: train on the ground-truth loss (mode=train).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamrpn", "upchannel")
    config.data.negative_prob = 0.2
    return config
