"""Student selection by reinforcement learning (SPEC section 3; N2N shrinkage stage).

- `space`: the prunable layers of a teacher, the ratio set, candidates from actions,
- `reward`: R = C (2 - C) A_s / A_t, the optional speed term and constraints,
- `policy`: the LSTM policy and its REINFORCE update,
- `fragment`: the `student.py` config fragment a search writes and distillation reads.

The job that runs a search (proxy distillations, evaluation, plots) is
`dsiam_jax.jobs.student_search` (`config.mode=student_search`).
"""
