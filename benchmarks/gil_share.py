"""How much of the wall time a running Python process holds the GIL, sampled with py-spy.

Two py-spy recordings of the same length, one after the other: with `--idle` every
thread is sampled at every tick, so the busiest thread's sample count is the number
of ticks taken; with `--gil` only the thread holding the GIL is kept, and none when
no thread holds it. The GIL share is their ratio: the fraction of the wall time some
thread of the process ran Python. A process can never go past 1 / share times its
current rate, however many cores it is given; that ceiling is what the graph input
path avoids (`benchmarks/input_pipeline.py`).

py-spy attaches with ptrace: it needs the permission to (root, or
`kernel.yama.ptrace_scope` = 0); `measure` reports the reason when it cannot.
"""

from __future__ import annotations

import collections
import pathlib
import shutil
import subprocess
import tempfile


def parse_raw(text: str) -> collections.Counter:
    """Samples per thread of a py-spy `--format raw --threads` recording: each line is
    `thread (TID): NAME;frame;...;leaf-frame COUNT`."""
    per_thread = collections.Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            per_thread[stack.split(";", 1)[0]] += int(count)
    return per_thread


def _record(pid: int, seconds: float, rate: int, flag: str) -> collections.Counter:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "raw.txt"
        cmd = ["py-spy", "record", "-p", str(pid), "--duration", str(int(seconds))]
        cmd += ["--rate", str(rate), "--format", "raw", "--threads", "-o", str(out), flag]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy {flag} failed: {(proc.stderr or proc.stdout)[-300:]}")
        return parse_raw(out.read_text())


def share(ticks: int, gil_samples: int) -> float:
    """GIL share from the two counts (`ticks` from the `--idle` recording's busiest
    thread, `gil_samples` summed over threads of the `--gil` one)."""
    if ticks <= 0:
        raise ValueError("no ticks recorded")
    return min(gil_samples / ticks, 1.0)


def measure(pid: int, seconds: float = 10, rate: int = 100) -> dict:
    """The GIL share of process `pid` over `seconds` (x2: the two recordings), or
    `{"skipped": reason}` when py-spy is missing or may not attach."""
    if shutil.which("py-spy") is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    try:
        idle = _record(pid, seconds, rate, "--idle")
        gil = _record(pid, seconds, rate, "--gil")
    except RuntimeError as err:
        return {"skipped": str(err)}
    ticks, gil_samples = max(idle.values(), default=0), sum(gil.values())
    return {
        "gil_share": share(ticks, gil_samples),
        "ticks": ticks,
        "gil_samples": gil_samples,
        "threads_seen": len(idle),
        "seconds_each": seconds,
        "rate_hz": rate,
    }
