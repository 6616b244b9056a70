"""Timing helpers shared by the benchmarks: warm-up, repeated runs, environment record."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"


def time_fn(fn: Callable[[], Any], repeats: int = 10, warmup: int = 2) -> dict[str, float]:
    """Seconds per call of `fn` (blocking on its result), after warm-up/compile."""
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "mean_s": statistics.fmean(times),
        "repeats": repeats,
    }


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    dev = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "num_devices": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_json(name: str, payload: dict[str, Any], out: str | None = None) -> pathlib.Path:
    """Writes `payload` (plus the environment) to `out` or benchmarks/results/<name>.json."""
    path = pathlib.Path(out) if out else RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"environment": environment(), **payload}, indent=2) + "\n")
    return path


def arguments(description: str | None, repeats: int = 10) -> argparse.ArgumentParser:
    """The flags every benchmark takes: `--out FILE` (default results/<name>.json) and
    `--repeats N` (timed calls per median)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=None)
    parser.add_argument("--repeats", type=int, default=repeats, help="timed calls per median")
    return parser
