"""DSTrpn on this CPU: two students distilled from the `configs/siamrpn_matcher.py` teacher.

    python -m dsiam_jax.main --config=configs/dstrpn_matcher.py --workdir=W2 \
        --config.teacher.checkpoint=W1

Students: AlexNet 24-64-96-96-64 (ungrouped) with a depth-wise RPN head of width 32
(1.27 MB, 19.6x smaller than the 25.0 MB teacher), saved as `student_0` and
`student_1`. Each starts as one of the zoo's SiamFC students (`model.init_from`, one
source per student: backbone and matcher, as the teacher started from the SiamFC
teacher), and trains on the teacher's recipe (512 scenes, backbone at a tenth of the
rate) for 4,000 steps with configs/dstrpn.py's losses: ground truth + the per-anchor soft
loss + teacher-bounded regression + conditional sharing (studies/siamrpn/README.md
section 31: 0.030 below the teacher after 4,000 steps, 0.047 after 2,000, 0.031 after
6,000). The teacher's cls/reg maps of the run are cached in WORKDIR/teacher_cache
(`distill.teacher_cache='auto'`, about 1.1 GB), so another run on the same examples
(another student, another schedule) does not run the teacher again.
"""

from configs import dstrpn, siamrpn_matcher

STUDENT = (24, 64, 96, 96, 64)


def get_config():
    config = siamrpn_matcher.get_config()
    losses = dstrpn.get_config()
    config.mode = losses.mode
    config.distill = losses.distill
    config.train.model_name = losses.train.model_name
    config.train.model_role = losses.train.model_role
    config.distill.students = (STUDENT, STUDENT)
    config.distill.student_head_channels = 32
    config.model.init_from = "siamfc_student_0,siamfc_student_1"
    config.train.num_steps = 4000  # the students gain +0.017 over 2,000; 6,000 add nothing
    config.train.frozen_convs = 0  # the students train their whole backbone (section 31)
    config.train.reg_lr_scale = 1.0  # the teacher's faster regression tower (section 38)
    # was measured for the teacher only
    return config
