"""Train the SiamRPN teacher (big AlexNet 192-512-768-768-512, up-channel head, k=5).

    python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=W1

The paper's 361.8 MB teacher. Recipe: SGD momentum 0.9, weight decay 5e-4, lr
1e-2 -> 1e-5 log-linearly with a short warm-up and gradient clipping (the RPN head
is large), batch 8 per device, 20% negative pairs. 100k steps of batch 8 is 800k
pairs (the DaSiamRPN/pysot recipes see more: scale num_steps with your data).
Saved as `siamrpn_teacher` (role teacher); `configs/dstrpn.py` distils it.

Known limitation: from random weights the up-channel head is unstable (gradient norm
~3e3 at the first step; the regression loss grows even at lr 1e-4 without clipping).
SiamRPN and pysot start from an ImageNet-pretrained AlexNet, which this library does
not provide (`configs/import_torch.py` imports whole pysot depth-wise and
siamfc-pytorch trackers). The depth-wise head (`--config.model.head=depthwise`)
trains from scratch (zoo/build.sh).
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamrpn", "upchannel")
    config.data.negative_prob = 0.2
    config.train.num_steps = 100_000
    config.train.warmup_steps = 1_000
    config.train.grad_clip = 10.0
    config.train.checkpoint_every = 1_000
    config.train.log_every = 50
    config.train.model_name = "siamrpn_teacher"
    config.train.model_role = "teacher"
    return config
