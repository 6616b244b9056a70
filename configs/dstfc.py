"""DSTfc: distil a trained SiamFC teacher into two students that also teach each other.

    python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=W1 --workdir=W2

Students: AlexNet 24-64-96-96-64 (153k parameters, 0.61 MB: ~15x smaller than the
9.35 MB teacher; the paper's SiamFC student is ~0.7 MB), saved as `student_0` and
`student_1`. Loss per student (SPEC 4-5): gt + soft + conditional sharing (alpha=0,
gamma=1); no bounded regression for SiamFC, no hint. The soft loss is the spatial
form at T=2 (`distill.soft_form`, the distillation study's finding:
studies/distillation/README.md); `--config.distill.soft_form=pointwise` gives the
paper's background-suppressed form (beta=0.1, rho=0.1).
Same optimiser recipe and length as the teacher. For short runs (hundreds of steps,
as zoo/build.sh's 500) end the learning rate at 1e-3 (`--config.train.lr_end=1e-3`):
the recipe's 1e-2 -> 1e-5 decay leaves most of such a run below 1e-3, and students
distilled that way score about 0.04-0.05 success AUC lower (studies/distillation/README.md
sections 6 and 8). The teacher's kind and head come
from its checkpoint; `config.model.kind` must match it (SiamFC here). The teacher's
response maps are cached in WORKDIR/teacher_cache (`distill.teacher_cache='auto'`, ~0.5 GB for the
whole run), so a resumed or longer run does not run the teacher again.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "distill"
    config.model = default.model_config("siamfc")
    config.distill.students = ((24, 64, 96, 96, 64), (24, 64, 96, 96, 64))
    config.train.num_steps = 50_000
    config.train.checkpoint_every = 1_000
    config.train.log_every = 50
    return config
