"""A student found by mode=student_search; distil it with

    python -m dsiam_jax.main --config=configs/dstfc.py \
        --config.distill.students_from=studies/student_search/student.py \
        --config.teacher.checkpoint=TEACHER --workdir=W

Search result:
    reward: 0.8268005093510681
    params: 19413
    megabytes: 0.077652
    compression: 0.9673015022814668
    auc: 0.4706845238095238
    fps: 34.92998245831955
    teacher:
        channels: [48, 128, 192, 192, 128]
        params: 593697
        megabytes: 2.374788
        auc: 0.5686755952380952
        fps: 9.911960050390174
"""

KIND = "siamfc"
CHANNELS = (10, 26, 20, 20, 64)
HEAD_CHANNELS = 0
