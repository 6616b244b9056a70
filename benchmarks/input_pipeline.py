"""Input pipeline throughput: training pairs per second from the tf.data pipeline.

    python -m benchmarks.input_pipeline [--batches=30] [--out=PATH.json]

Cases (default `config.data`: 127/255 crops, default augmentation, batch 8):
- synthetic: generated on the fly (64 sequences x 40 frames, 320x240; Python path);
- got10k_320x240: the same data written as a GOT-10k folder (JPEG decode + crop);
- got10k_1280x720: a GOT-10k folder at a typical real-dataset resolution.
On the folders, both paths of `data.pipeline` (`python`: today's `tf.numpy_function`
sampler; `graph`: `data_pipelines.graph_pairs`), each with `num_parallel_calls` 1, 2
and AUTOTUNE, in one run; `ratios` compares them (graph 2 calls / 1 call: scaling
with calls; graph / python at AUTOTUNE). For the Python path, the serial cost of its
Python part (sampling + decoding/rendering) too.
Scaling with cores (`cores` in each folder's results): each path at AUTOTUNE in a fresh
process confined to the first 1, then 2 cores (`os.sched_setaffinity` before TensorFlow
starts, which sizes its thread pools by the cores it may use), in interleaved rounds.
This, not calls, is the scaling that counts: one graph call already runs a pair's
independent ops (template and search decode) on two threads. On 1280x720 frames, the
GIL rows (`gil`, `benchmarks/gil_share.py`, py-spy): the share of the wall time each
path's process holds the GIL, hence the Python path's single-process ceiling however
many cores, and the cores at which the graph path would pass twice that ceiling (a
projection: this machine has 2). The machine's load average goes in the JSON: other
work on the same cores lowers every number and the scaling, and inflates the GIL time
per pair (a thread may hold the GIL while it waits for a core).
The bar: the teacher-plus-two-students train step takes about 0.3-2 s per batch
of 8 on a 2-core CPU, so the pipeline must give well over 4-27 pairs/s.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from benchmarks import gil_share, timing
from configs import default
from data_pipelines import pairs
from data_pipelines.synthetic import write_got10k

FLAGS = flags.FLAGS
flags.DEFINE_integer("batches", 30, "Timed batches per case (after 3 warm-up batches).")
flags.DEFINE_integer("batch_size", 8, "Global batch size.")
flags.DEFINE_string("out", "", "Output JSON (default benchmarks/results/input_pipeline.json).")
flags.DEFINE_integer("core_rounds", 2, "Interleaved rounds of the 1-core / 2-core rows.")
flags.DEFINE_integer(
    "gil_seconds", 10, "Length of each py-spy recording of the GIL rows (0: no GIL rows)."
)


AUTOTUNE = -1  # data.num_parallel_calls: tf.data.AUTOTUNE
PARALLEL = (("1", 1), ("2", 2), ("autotune", AUTOTUNE))  # num_parallel_calls rows
PIPELINES = ("python", "graph")


def measure(data, name: str, batch_size: int, batches: int, sampler=None) -> dict:
    """Pairs/s of the pipeline (and, for the Python path, the serial per-pair cost of
    its Python part)."""
    t0 = time.perf_counter()
    sampler = sampler or pairs.make_sampler(data, seed=0)
    build_s = time.perf_counter() - t0
    it = pairs.local_batches(data, seed=0, global_batch_size=batch_size, sampler=sampler)
    t0 = time.perf_counter()
    next(it)
    first_s = time.perf_counter() - t0
    for _ in itertools.islice(it, 2):  # warm-up (AUTOTUNE settles)
        pass
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in itertools.islice(it, batches):
        pass
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    it.close()
    result = {
        "pairs_per_s": batches * batch_size / elapsed,
        # CPU time of the whole process (every thread) per pair: the work, whatever the load.
        "cpu_ms_per_pair": cpu / (batches * batch_size) * 1e3,
        # Cores the process had on average: ~1 with 2 makers means the machine's other
        # work, not the pipeline, set the pace (no scaling can show).
        "cores_used": cpu / elapsed,
        "batch_s": elapsed / batches,
        "read_annotations_s": build_s,
        "first_batch_s": first_s,
        "timed_batches": batches,
    }
    extra = ""
    if pairs.resolve_pipeline(data.pipeline, sampler) == "python":
        t0 = time.perf_counter()  # serial Python part (sampling + decode/render), caches warm
        for i in range(40):
            sampler.sample(i)
        result["serial_python_ms_per_pair"] = (time.perf_counter() - t0) / 40 * 1e3
        extra = f"  ({result['serial_python_ms_per_pair']:.1f} ms/pair serial Python)"
    print(
        f"{name:36s} {result['pairs_per_s']:7.1f} pairs/s, {result['cpu_ms_per_pair']:5.1f} "
        f"CPU ms/pair, {result['cores_used']:.2f} cores{extra}",
        flush=True,
    )
    return result


def folder_config(root: pathlib.Path):
    """The default `config.data` reading the GOT-10k folder `root`'s train split."""
    d = default.data_config()
    d.layout, d.root, d.split = "got10k", str(root), "train"
    return d


def measure_folder(root: pathlib.Path, batch_size: int, batches: int) -> dict:
    """Both paths x `PARALLEL` on one GOT-10k folder, and their ratios."""
    d = folder_config(root)
    sampler = pairs.make_sampler(d, seed=0)
    rows = {}
    for pipeline in PIPELINES:
        for label, calls in PARALLEL:
            d.pipeline, d.num_parallel_calls = pipeline, calls
            name = f"{root.name}/{pipeline}/calls_{label}"
            rows[f"{pipeline}/calls_{label}"] = measure(d, name, batch_size, batches, sampler)
    rate = lambda key: rows[key]["pairs_per_s"]
    cpu = lambda key: rows[key]["cpu_ms_per_pair"]
    ratios = {
        "graph_2_calls_over_1_call": rate("graph/calls_2") / rate("graph/calls_1"),
        "python_2_calls_over_1_call": rate("python/calls_2") / rate("python/calls_1"),
        "graph_over_python_autotune": rate("graph/calls_autotune") / rate("python/calls_autotune"),
        "graph_over_python_2_calls": rate("graph/calls_2") / rate("python/calls_2"),
        "python_over_graph_cpu_per_pair_autotune": cpu("python/calls_autotune")
        / cpu("graph/calls_autotune"),
    }
    print(f"{root.name} ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    return {"rows": rows, "ratios": ratios}


CORES = (1, 2)
# One AUTOTUNE row in a fresh process on the first n cores: argv = n, folder, pipeline,
# batch size, batches. The affinity is set before anything imports TensorFlow.
ON_CORES = """
import json, os, pathlib, sys
n, root, pipeline, batch_size, batches = sys.argv[1:]
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: int(n)])
from benchmarks import input_pipeline
row = input_pipeline.measure_autotune(pathlib.Path(root), pipeline, int(batch_size), int(batches))
print(json.dumps(row))
"""


def autotune_config(root: pathlib.Path, pipeline: str):
    """`folder_config` for one path (`python` or `graph`) at AUTOTUNE."""
    d = folder_config(root)
    d.pipeline, d.num_parallel_calls = pipeline, AUTOTUNE
    return d


def measure_autotune(root: pathlib.Path, pipeline: str, batch_size: int, batches: int) -> dict:
    """One path at AUTOTUNE on a GOT-10k folder, on the cores this process may use."""
    d = autotune_config(root, pipeline)
    name = f"{root.name}/{pipeline}/{len(os.sched_getaffinity(0))}_cores"
    return measure(d, name, batch_size, batches)


def measure_cores(root: pathlib.Path, batch_size: int, batches: int, rounds: int) -> dict:
    """Both paths at AUTOTUNE on 1 and 2 cores (`CORES`), rounds interleaved: the
    median row of each, and the 2-core over 1-core ratios."""
    cores = [n for n in CORES if n <= len(os.sched_getaffinity(0))]
    runs = {(p, n): [] for p in PIPELINES for n in cores}
    for _ in range(rounds):
        for (pipeline, n), rows in runs.items():
            args = [str(n), str(root), pipeline, str(batch_size), str(batches)]
            proc = subprocess.run(
                [sys.executable, "-c", ON_CORES, *args], capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise RuntimeError(f"{pipeline} on {n} cores failed:\n{proc.stderr[-2000:]}")
            *_, printed, row = proc.stdout.splitlines()
            print(printed, flush=True)  # its measure() line
            rows.append(json.loads(row))
    median = lambda rows: sorted(rows, key=lambda r: r["pairs_per_s"])[len(rows) // 2]
    result = {
        f"{p}/cores_{n}": dict(median(rows), rounds=[r["pairs_per_s"] for r in rows])
        for (p, n), rows in runs.items()
    }
    if len(cores) == 2:
        for p in PIPELINES:
            per_round = [
                b["pairs_per_s"] / a["pairs_per_s"]
                for a, b in zip(runs[(p, 1)], runs[(p, 2)], strict=True)
            ]
            result[f"{p}_2_cores_over_1_core"] = statistics.median(per_round)
    return result


# One path at AUTOTUNE in a fresh process, batches drawn until the parent's py-spy
# recordings end (it closes stdin): argv = folder, pipeline, batch size.
ON_GIL = """
import itertools, pathlib, sys, threading, time
root, pipeline, batch_size = sys.argv[1:]
from benchmarks import input_pipeline
from data_pipelines import pairs
d = input_pipeline.autotune_config(pathlib.Path(root), pipeline)
it = pairs.local_batches(d, seed=0, global_batch_size=int(batch_size))
for _ in itertools.islice(it, 3):
    pass
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
print("ready", flush=True)
t0, n = time.perf_counter(), 0
while not done.is_set():
    next(it)
    n += 1
print(n * int(batch_size) / (time.perf_counter() - t0), flush=True)
"""


def measure_gil(root: pathlib.Path, batch_size: int, seconds: float) -> dict:
    """Each path at AUTOTUNE: the share of wall time its process holds the GIL
    (`gil_share`), the GIL time per pair, and the pairs/s one process of it can never
    pass however many cores it has (`single_process_ceiling_pairs_per_s`)."""
    result = {}
    for pipeline in PIPELINES:
        args = [str(root), pipeline, str(batch_size)]
        proc = subprocess.Popen(
            [sys.executable, "-c", ON_GIL, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        while proc.stdout.readline().strip() != "ready":
            if proc.poll() is not None:
                raise RuntimeError(f"{pipeline}: the GIL row's process ended early")
        row = gil_share.measure(proc.pid, seconds)
        out, _ = proc.communicate("", timeout=600)
        row["pairs_per_s"] = float(out.split()[-1])
        if "gil_share" in row:
            gil_ms = row["gil_share"] * 1e3 / row["pairs_per_s"]
            row["gil_ms_per_pair"] = gil_ms  # none sampled: no ceiling seen (null)
            row["single_process_ceiling_pairs_per_s"] = 1e3 / gil_ms if gil_ms > 0 else None
        print(f"{root.name}/{pipeline}/gil: {json.dumps(row)}", flush=True)
        result[pipeline] = row
    return result


def many_core_projection(gil: dict, cores: dict) -> dict:
    """A projection from measured numbers, not a measurement: the cores at which one
    graph-path process (`cpu_ms_per_pair` of its 2-core row, scaling as the cores rows
    show) makes twice the Python path's single-process ceiling."""
    ceiling = gil["python"].get("single_process_ceiling_pairs_per_s")
    graph = cores.get("graph/cores_2")
    if ceiling is None or graph is None:
        return {"skipped": "needs the Python path's GIL share and the graph path's 2-core row"}
    return {
        "python_single_process_ceiling_pairs_per_s": ceiling,
        "graph_cpu_ms_per_pair": graph["cpu_ms_per_pair"],
        "cores_for_graph_at_2x_python_ceiling": 2 * ceiling * graph["cpu_ms_per_pair"] / 1e3,
    }


def main(argv: list[str]) -> None:
    del argv
    load_before = os.getloadavg()
    results = {}
    data = default.data_config()
    results["synthetic"] = measure(data, "synthetic", FLAGS.batch_size, FLAGS.batches)
    with tempfile.TemporaryDirectory() as tmp:
        for size, count, length in (((320, 240), 64, 40), ((1280, 720), 8, 20)):
            root = pathlib.Path(tmp) / f"got10k_{size[0]}x{size[1]}"
            t0 = time.perf_counter()
            write_got10k(
                root,
                0,
                splits=("train",),
                num_sequences=count,
                sequence_length=length,
                frame_size=size,
            )
            write_s = time.perf_counter() - t0
            results[root.name] = measure_folder(root, FLAGS.batch_size, FLAGS.batches)
            results[root.name]["cores"] = measure_cores(
                root, FLAGS.batch_size, FLAGS.batches, FLAGS.core_rounds
            )
            if FLAGS.gil_seconds > 0 and size == (1280, 720):
                gil = measure_gil(root, FLAGS.batch_size, FLAGS.gil_seconds)
                gil["projection"] = many_core_projection(gil, results[root.name]["cores"])
                results[root.name]["gil"] = gil
            results[root.name].update(sequences=count, frames_per_sequence=length, write_s=write_s)
    payload = {
        # Other work sharing the CPU (1, 5, 15 min), before and after the measurements.
        "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
        "batch_size": FLAGS.batch_size,
        "crops": [int(data.template_size), int(data.search_size)],
        "train_step_bar": "teacher + 2 students: about 0.3-2 s per batch of 8 -> 4-27 pairs/s",
        "how_to_read": "cpu_ms_per_pair is the work per pair whatever the load; cores_used "
        "near 1 with 2 makers means the machine's other work capped this process, and the "
        "2-calls-over-1 ratios then say nothing about scaling",
        "results": results,
    }
    path = timing.write_json("input_pipeline", payload, FLAGS.out or None)
    print(f"wrote {path}")


if __name__ == "__main__":
    app.run(main)
