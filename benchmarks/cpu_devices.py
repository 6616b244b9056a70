"""Training steps on one XLA:CPU device against the cores split into several.

    python -m benchmarks.cpu_devices [--counts 1,2] [--rounds 2] [--repeats 8] [--out FILE]

The device count is fixed when JAX starts, so each count runs `benchmarks.train_step`
(float32 rows) in its own process, the counts alternated for `--rounds` rounds so that a
drifting machine skews them alike. Writes every run's step times and, per row, the
speed-up of each count over the first (`ratios`: first count's median step time / this
count's, one value per round). This is the measurement behind `distributed.cpu_devices`
(`dsiam_jax/parallel.py`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from benchmarks.timing import arguments, write_json


def run_train_step(count: int, repeats: int) -> dict:
    """One `benchmarks.train_step` process with `count` CPU devices; its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "train_step.json")
        command = [sys.executable, "-m", "benchmarks.train_step", "--no-bf16"]
        command += ["--repeats", str(repeats), "--cpu-devices", str(count), "--out", out]
        subprocess.run(command, check=True)
        with open(out) as f:
            return json.load(f)


def main() -> None:
    parser = arguments(__doc__, repeats=8)
    parser.add_argument("--counts", default="1,2", help="CPU device counts, the base first")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    runs = []
    for round_ in range(args.rounds):
        for count in counts:
            result = run_train_step(count, args.repeats)
            steps = {r["name"]: r["step_ms"] for r in result["rows"]}
            runs.append({"round": round_, "cpu_devices": count, "step_ms": steps})
            print(f"round {round_} cpu_devices={count}: {steps}", flush=True)
    ratios = {}
    for count in counts[1:]:
        for row in runs[0]["step_ms"]:
            ratios[f"{row}: {count} vs {counts[0]} devices"] = [
                base["step_ms"][row] / run["step_ms"][row]
                for base, run in zip(runs[:: len(counts)], runs[counts.index(count) :: len(counts)])
            ]
    path = write_json(
        "cpu_devices",
        {"global_batch": 8, "repeats": args.repeats, "runs": runs, "ratios": ratios},
        args.out,
    )
    print(f"ratios {json.dumps(ratios, indent=1)}\nwrote {path}")


if __name__ == "__main__":
    main()
