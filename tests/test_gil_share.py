"""benchmarks.gil_share: the parsing and the share by hand, and py-spy on two processes
whose GIL share is known (a pure-Python loop: about all of it; a sleep: none)."""

import subprocess
import sys
import time

import pytest

from benchmarks import gil_share

RAW = """thread (101): MainThread;<module> (a.py:3);f (a.py:9) 40
thread (101): MainThread;<module> (a.py:3);g (a.py:12) 60
thread (102): Thread-1 (worker);run (threading.py:1010) 25
"""


def test_parse_raw_counts_per_thread():
    per_thread = gil_share.parse_raw(RAW)
    assert per_thread == {"thread (101): MainThread": 100, "thread (102): Thread-1 (worker)": 25}


def test_share_by_hand():
    assert gil_share.share(200, 50) == 0.25
    assert gil_share.share(100, 130) == 1.0  # two recordings: counts may overshoot
    with pytest.raises(ValueError):
        gil_share.share(0, 0)


@pytest.mark.parametrize(
    "code, low, high",
    [("while True: sum(range(1000))", 0.8, 1.0), ("import time\ntime.sleep(60)", 0.0, 0.05)],
)
def test_measure_on_known_processes(code, low, high):
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(1)  # py-spy finds the interpreter once it has started
        row = gil_share.measure(proc.pid, seconds=2, rate=100)
    finally:
        proc.kill()
        proc.wait()
    if "skipped" in row:
        pytest.skip(row["skipped"])
    assert row["ticks"] > 100
    assert low <= row["gil_share"] <= high
