"""Input pipeline throughput: training pairs per second from the tf.data pipeline.

    python -m benchmarks.input_pipeline [--batches=30] [--out=PATH.json]

Cases (default `config.data`: 127/255 crops, default augmentation, batch 8):
- synthetic: generated on the fly (64 sequences x 40 frames, 320x240);
- got10k_320x240: the same data written as a GOT-10k folder (JPEG decode + crop);
- got10k_1280x720: a GOT-10k folder at a typical real-dataset resolution.
For each: pairs/s of the whole pipeline (parallel map, AUTOTUNE) and, for the
breakdown, the serial cost of the Python part (sampling + decoding/rendering).
The bar: the teacher-plus-two-students train step takes about 0.3-2 s per batch
of 8 on a 2-core CPU, so the pipeline must give well over 4-27 pairs/s.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import tempfile
import time

from absl import app, flags

from benchmarks import timing
from configs import default
from data_pipelines import pairs
from data_pipelines.synthetic import write_got10k

FLAGS = flags.FLAGS
flags.DEFINE_integer("batches", 30, "Timed batches per case (after 3 warm-up batches).")
flags.DEFINE_integer("batch_size", 8, "Global batch size.")
flags.DEFINE_string("out", "", "Output JSON (default benchmarks/results/input_pipeline.json).")


def measure(data, name: str, batch_size: int, batches: int) -> dict:
    """Pairs/s of the pipeline and the serial per-pair cost of its Python part."""
    t0 = time.perf_counter()
    sampler = pairs.make_sampler(data, seed=0)
    build_s = time.perf_counter() - t0
    it = pairs.local_batches(data, seed=0, global_batch_size=batch_size, sampler=sampler)
    t0 = time.perf_counter()
    next(it)
    first_s = time.perf_counter() - t0
    for _ in itertools.islice(it, 2):  # warm-up (AUTOTUNE settles)
        pass
    t0 = time.perf_counter()
    for _ in itertools.islice(it, batches):
        pass
    elapsed = time.perf_counter() - t0
    it.close()
    t0 = time.perf_counter()  # serial Python part (sampling + decode/render), caches warm
    for i in range(40):
        sampler.sample(i)
    python_ms = (time.perf_counter() - t0) / 40 * 1e3
    result = {
        "pairs_per_s": batches * batch_size / elapsed,
        "batch_s": elapsed / batches,
        "serial_python_ms_per_pair": python_ms,
        "read_annotations_s": build_s,
        "first_batch_s": first_s,
        "timed_batches": batches,
    }
    print(
        f"{name:18s} {result['pairs_per_s']:7.1f} pairs/s  ({python_ms:.1f} ms/pair serial Python)"
    )
    return result


def main(argv: list[str]) -> None:
    del argv
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
            d = default.data_config()
            d.layout, d.root, d.split = "got10k", str(root), "train"
            name = root.name
            results[name] = measure(d, name, FLAGS.batch_size, FLAGS.batches)
            results[name].update(sequences=count, frames_per_sequence=length, write_s=write_s)
    payload = {
        "load_average_1_5_15_min": os.getloadavg(),  # other work sharing the CPU
        "batch_size": FLAGS.batch_size,
        "crops": [int(data.template_size), int(data.search_size)],
        "train_step_bar": "teacher + 2 students: about 0.3-2 s per batch of 8 -> 4-27 pairs/s",
        "results": results,
    }
    path = timing.write_json("input_pipeline", payload, FLAGS.out or None)
    print(f"wrote {path}")


if __name__ == "__main__":
    app.run(main)
