"""dsiam_jax.progress: durations and the throttled progress line, by hand."""

import math

from dsiam_jax.progress import ProgressLine, format_duration


def test_format_duration():
    assert format_duration(3723) == "1h02m03s"
    assert format_duration(59.6) == "1m00s"
    assert format_duration(5) == "0m05s"
    assert format_duration(math.nan) == "?"


def test_progress_line_is_throttled_and_always_ends():
    times = iter([0.0, 10.0, 31.0, 40.0, 41.0])
    lines = []
    p = ProgressLine("eval", 4, "sequences", lines.append, every_s=30, clock=lambda: next(times))
    p.update(1)  # t = 10: too soon
    p.update(2, ", x")  # t = 31: 2 in 31 s, 2 left
    p.update(3)  # t = 40: 9 s after the last line
    p.update(4)  # t = 41: the last item, always
    assert lines == [
        "eval: 2/4 sequences, 0.0645 sequences/s, ETA 0m31s, x",
        "eval: 4/4 sequences, 0.0976 sequences/s, ETA 0m00s",
    ]


def test_progress_line_of_a_resumed_job_counts_only_its_own_items():
    # Resumed at 6 of 10 done: 2 more in 20 s is 0.1 items/s, 2 left is 20 s.
    times = iter([0.0, 20.0])
    lines = []
    p = ProgressLine(
        "search", 10, "iterations", lines.append, every_s=0, clock=lambda: next(times), first_done=6
    )
    p.update(8)
    assert lines == ["search: 8/10 iterations, 0.1 iterations/s, ETA 0m20s"]
