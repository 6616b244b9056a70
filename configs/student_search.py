"""Student selection by reinforcement learning (mode=student_search, SPEC section 3).

    python -m dsiam_jax.main --config=configs/student_search.py \
        --config.teacher.checkpoint=W1 --workdir=W5
    python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=W1 \
        --config.distill.students_from=W5/student.py --workdir=W6

An LSTM policy picks a shrink ratio per teacher layer (conv1-5; SiamRPN also its head)
from `search.ratios`; each candidate is distilled for `search.proxy_steps` steps and
scored by success AUC on a small validation split (synthetic `val`, or
`search.val_root`; never a test split): R = C (2 - C) A_s / A_t. The students take
the teacher's kind and head; the crops of `config.data` and `config.tracker` are
used as they are (for a SiamRPN teacher start from configs/dstrpn.py's settings).
See dsiam_jax/jobs/student_search.py for what is written.

`get_config('tiny')` (`configs/student_search.py:tiny`) is a complete search that
finishes in minutes on a 2-core CPU: it trains a tiny teacher (no checkpoint needed),
then 2 iterations of 2 candidates with 4-step proxies on 2 validation sequences.
"""

import ml_collections

from configs import default
from dsiam_jax.student_search.space import RATIOS


def search_config() -> ml_collections.ConfigDict:
    """The `search` section: policy, proxy budget, reward speed term and constraints."""
    s = ml_collections.ConfigDict()
    s.iterations = 30  # policy updates
    s.candidates_per_iteration = 4  # channel lists sampled per update
    s.ratios = RATIOS  # shrink ratios an action picks from (SPEC section 3)
    # widths = max(m, round(teacher width * ratio / m) * m); with 1, odd widths break
    # SiamFC's grouped convs and such candidates get reward -1
    s.channel_multiple = 2
    s.learning_rate = 0.01  # Adam step of the policy
    s.baseline_decay = 0.9  # moving-average baseline of REINFORCE
    s.entropy_weight = 0.01  # entropy bonus (keeps the policy exploring; 0 = off)
    # Proxy accuracy: distil each candidate this many steps (batch train.batch_size),
    # then success AUC on this many validation sequences.
    s.proxy_steps = 300
    s.val_sequences = 16
    # Validation split: '' = the synthetic val split, written once in WORKDIR/val_data;
    # else a dataset folder read with eval layout `val_layout` and split `val_split`.
    s.val_root = ""
    s.val_layout = "got10k"
    s.val_split = ""
    # Runtime on which the whole tracking step's frames/s is measured: jax | onnx | onnx_qdq.
    s.runtime = "jax"
    # Speed term (0 = off): below target_fps frames/s (or the latency budget latency_ms),
    # the reward is multiplied by (fps / target) ** speed_weight.
    s.target_fps = 0.0
    s.latency_ms = 0.0
    s.speed_weight = 1.0
    # Constraints (0 = off): a candidate outside them gets reward -1.
    s.max_megabytes = 0.0
    s.min_compression = 0.0
    s.min_fps = 0.0
    # Uniform-width students of equal size, proxied for comparison: best | pareto | off.
    s.compare_uniform = "pareto"
    # The paper's ablation (g), after the search: the best candidate and the uniform
    # student of its size, distilled alike (config.distill) for compare_steps steps per
    # seed (compare_seeds; 0 = no report), success AUC on compare_sequences sequences of
    # the test split (config.eval.root, or the synthetic test split) -> report.md.
    s.compare_seeds = 3
    s.compare_steps = 1500
    s.compare_sequences = 48
    # Train a teacher of config.model for this many steps when teacher.checkpoint is ''.
    s.teacher_steps = 0
    # Stop after this many iterations of this process, as if killed (0 = off; tests).
    s.exit_after_iterations = 0
    return s


def get_config(size: str = "default"):
    if size not in ("default", "tiny"):
        raise ValueError(f"configs/student_search.py:{size}: expected default or tiny")
    config = default.get_config()
    config.mode = "student_search"
    config.search = search_config()
    if size == "tiny":
        s = config.search
        s.iterations, s.candidates_per_iteration = 2, 2
        s.proxy_steps, s.val_sequences, s.teacher_steps = 4, 2, 4
        s.compare_uniform = "best"
        s.compare_seeds, s.compare_steps, s.compare_sequences = 1, 4, 2
        config.train.input = "toy"  # on-device synthetic pairs (no TensorFlow)
        config.model.channels = (16, 32, 32, 32, 32)
        config.data.template_size, config.data.search_size = 103, 151
        config.tracker.siamfc.template_size, config.tracker.siamfc.search_size = 103, 151
        config.data.synthetic.sequence_length = 8
        config.train.batch_size = 4
        config.eval.network_repeats = 0
    return config
