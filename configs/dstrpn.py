"""DSTrpn: distil a trained SiamRPN teacher into two students that also teach each other.

    python -m dsiam_jax.main --config=configs/dstrpn.py --config.teacher.checkpoint=W1 --workdir=W2

Students: AlexNet 48-128-192-192-128 with an up-channel head of width 128 (5.67 M
parameters, 22.7 MB: ~16x smaller than the 361.7 MB teacher; the paper's SiamRPN
student is ~20 MB), saved as `student_0` and `student_1`. Loss per student
(SPEC 4-5): gt + soft (T=2, beta=0.1, rho=0.1) + teacher-bounded regression (m=0)
+ conditional sharing (alpha=0, gamma=1); no hint. Same recipe as the teacher.
The teacher's cls/reg maps of this run would take ~28 GB, more than
`distill.teacher_cache='auto'` stores by itself: the teacher runs in every step
unless `--config.distill.teacher_cache=FOLDER` asks for the cache.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "distill"
    config.model = default.model_config("siamrpn", "upchannel")
    config.data.negative_prob = 0.2
    config.distill.students = ((48, 128, 192, 192, 128), (48, 128, 192, 192, 128))
    config.distill.student_head_channels = 128
    # The paper's per-anchor soft loss: the spatial form (the SiamFC default) is not
    # studied for RPN maps yet.
    config.distill.soft_form = "pointwise"
    config.loss.rpn_rank_weight = 1.0  # as configs/siamrpn_teacher.py
    config.train.num_steps = 100_000
    config.train.warmup_steps = 1_000
    config.train.grad_clip = 10.0
    config.train.checkpoint_every = 1_000
    config.train.log_every = 50
    return config
