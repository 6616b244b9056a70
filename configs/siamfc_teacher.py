"""Train the SiamFC teacher (AlexNet 96-256-384-384-256) on its ground-truth loss.

    python -m dsiam_jax.main --config=configs/siamfc_teacher.py --workdir=W1

Recipe (siamfc-pytorch): SGD momentum 0.9, weight decay 5e-4, lr 1e-2 -> 1e-5
log-linearly, batch 8; 50 epochs of one pair per GOT-10k training sequence
(~9.3k) is ~58k steps, rounded to 50k here. The model is saved as `siamfc_teacher`
(role teacher); `configs/dstfc.py` distils it. A quick run on this CPU:
    --config.train.num_steps=20 --config.train.batch_size=4 --config.train.input=toy
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamfc")
    config.train.num_steps = 50_000
    config.train.checkpoint_every = 1_000
    config.train.log_every = 50
    config.train.model_name = "siamfc_teacher"
    config.train.model_role = "teacher"
    return config
