"""The training input pipeline: tf.data pairs -> global jax arrays sharded over `data`.

    for batch in train_batches(config.data, seed=config.seed, global_batch_size=8, mesh=mesh):
        batch["template"]  # uint8 [B, 127, 127, 3]
        batch["search"]    # uint8 [B, 255, 255, 3]
        batch["box"]       # float32 [B, 4] target (x, y, w, h) in search-crop pixels
        batch["negative"]  # bool [B] search crop centred on something else

Two ways to make an example (`data.pipeline`, `resolve_pipeline`): "python"
(`pair_map_fn`: `sampling.PairSampler` in `tf.numpy_function`, the only one for
frames made in memory) and "graph" (`graph_pairs`: TensorFlow ops only, for frames
stored as files); both end in `finish_example` (crop, flip, photometric).

Exact resumability: global example `g = step * B + b` is a pure function of
(seed, g, data config) (stateless random draws keyed by g), and the map is
deterministic, so batch k is the same whether the run started at 0 or was restarted
with `start_step=k`, and whatever the number of processes. Sampling i.i.d. per
example replaces a shuffle buffer.

Per process: process p builds the examples `b in [p B/P, (p+1) B/P)` of every step;
`jax.make_array_from_process_local_data` assembles the global batch.

Errors: an exception in the Python part of the map (`tf.numpy_function`: sampling,
decoding; e.g. a `DatasetError` when an example runs out of `data.max_attempts`) is
not raised into TensorFlow. The example is marked failed, and the thread that
consumes the batches (`local_batches`, the training loop's thread) stops the tf.data
iterator and re-raises the original exception: one clear error, no TensorFlow
traceback, and no worker thread left to deadlock the interpreter at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np
import tensorflow as tf

from data_pipelines import augment, crop_ops, sampling, sources
from data_pipelines.sequences import DatasetError
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError

with contextlib.suppress(RuntimeError, ValueError):  # keep TensorFlow off accelerators
    tf.config.set_visible_devices([], "GPU")

MAX_EXAMPLES = 2**62
PIPELINES = ("auto", "graph", "python")  # data.pipeline
_OPEN_ITERATORS: weakref.WeakSet = weakref.WeakSet()  # live local_batches generators


def pair_config(data: Mapping[str, Any]) -> sampling.PairConfig:
    """`config.data` -> `sampling.PairConfig`."""
    aug = data["augment"]
    return sampling.PairConfig(
        template_size=int(data["template_size"]),
        search_size=int(data["search_size"]),
        context=float(data["context"]),
        max_gap=int(data["max_gap"]),
        negative_prob=float(data["negative_prob"]),
        min_box_size=float(data["min_box_size"]),
        max_aspect_ratio=float(data["max_aspect_ratio"]),
        template_scale=float(aug["template_scale"]),
        search_scale=float(aug["search_scale"]),
        template_shift=float(aug["template_shift"]),
        search_shift=float(aug["search_shift"]),
        color=float(aug["color"]),
        blur_prob=float(aug["blur_prob"]),
        gray_prob=float(aug["gray_prob"]),
        flip_prob=float(aug["flip_prob"]),
        max_attempts=int(data["max_attempts"]),
        decode_reduce=bool(data["decode_reduce"]),
    )


def make_sampler(data: Mapping[str, Any], seed: int) -> sampling.PairSampler:
    """Reads the datasets of `config.data` and builds the pair sampler."""
    return sampling.PairSampler(sources.load_sources(data), pair_config(data), seed)


def example_indices(
    start_step: int, global_batch_size: int, process_index: int = 0, process_count: int = 1
) -> tf.data.Dataset:
    """Global example ids this process makes, in order, from step `start_step` on."""
    local = global_batch_size // process_count
    first = process_index * local
    ds = tf.data.Dataset.range(start_step * local, MAX_EXAMPLES)
    return ds.map(lambda n: (n // local) * global_batch_size + first + n % local)


class PipelineErrors:
    """Exceptions raised while making examples (in tf.data threads), by example index."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_index: dict[int, BaseException] = {}

    def record(self, index: int, error: BaseException) -> None:
        with self._lock:
            self._by_index.setdefault(int(index), error)

    def first(self) -> BaseException | None:
        """The exception of the lowest failed example index (the first in batch order)."""
        with self._lock:
            return self._by_index[min(self._by_index)] if self._by_index else None


def _failed_example() -> tuple:
    """What `sample` returns for an example that raised: a 1x1 image, flagged failed."""
    image = np.zeros((1, 1, 3), np.uint8)
    geometry = np.asarray([0.5, 0.5, 1.0, 0.5, 0.5, 1.0], np.float32)
    photometric = np.asarray([1.0, 1.0, 1.0, 0.0], np.float32)
    flags = np.asarray([False, False, False, True])
    return image, image, geometry, np.zeros(4, np.float32), flags, photometric, photometric


def pair_map_fn(sampler: sampling.PairSampler, errors: PipelineErrors | None = None):
    """index (int64 scalar) -> example dict, for `tf.data.Dataset.map`.

    An exception while sampling example `index` is recorded in `errors` and the example
    comes out with `failed` set (see the module docstring); without `errors` it is
    raised into TensorFlow.
    """
    cfg = sampler.config

    def sample(index):
        try:
            p = sampler.sample(int(index))
        except Exception as e:  # re-raised by the consuming thread (`_local_batches`)
            if errors is None:
                raise
            errors.record(int(index), e)
            return _failed_example()
        geometry = [*p.template_center, p.template_side, *p.search_center, p.search_side]
        return (
            p.template_image,
            p.search_image,
            np.asarray(geometry, np.float32),
            p.box.astype(np.float32),
            np.asarray([p.flip, p.negative, p.gray, False]),
            p.template_photometric.astype(np.float32),
            p.search_photometric.astype(np.float32),
        )

    def make_example(index):
        t_img, s_img, geom, box, flags, photo_t, photo_s = tf.numpy_function(
            sample,
            [index],
            [tf.uint8, tf.uint8, tf.float32, tf.float32, tf.bool, tf.float32, tf.float32],
            stateful=False,
        )
        return finish_example(cfg, t_img, s_img, geom, box, flags, photo_t, photo_s)

    return make_example


def finish_example(
    cfg: sampling.PairConfig,
    template_image: tf.Tensor,
    search_image: tf.Tensor,
    geometry: tf.Tensor,
    box: tf.Tensor,
    flags: tf.Tensor,
    template_photometric: tf.Tensor,
    search_photometric: tf.Tensor,
) -> dict[str, tf.Tensor]:
    """The part of an example after decoding, shared by both paths: crop, flip, augment.

    Images: decoded frames, uint8 `[H, W, 3]`; `geometry` `[6]`: template (cx, cy,
    side) and search (cx, cy, side) in those images' pixels; `box` `[4]` float32: the
    target in search-crop pixels, flip already applied; `flags` bool `[4]`: flip,
    negative, gray, failed; photometric `[4]` each (`sampling.PHOTOMETRIC_FIELDS`).
    """
    template_image = tf.ensure_shape(template_image, [None, None, 3])
    search_image = tf.ensure_shape(search_image, [None, None, 3])
    geometry = tf.cast(geometry, tf.float32)
    template = crop_ops.crop_tf(template_image, geometry[0:2], geometry[2], cfg.template_size)
    search = crop_ops.crop_tf(search_image, geometry[3:5], geometry[5], cfg.search_size)
    flip, negative, gray, failed = flags[0], flags[1], flags[2], flags[3]
    template = tf.where(flip, tf.reverse(template, [1]), template)
    search = tf.where(flip, tf.reverse(search, [1]), search)
    if cfg.color > 0 or cfg.blur_prob > 0 or cfg.gray_prob > 0:
        template = augment.photometric(template, template_photometric, gray)
        search = augment.photometric(search, search_photometric, gray)
    to_uint8 = lambda x: tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
    return {
        "template": tf.ensure_shape(to_uint8(template), [cfg.template_size] * 2 + [3]),
        "search": tf.ensure_shape(to_uint8(search), [cfg.search_size] * 2 + [3]),
        "box": tf.ensure_shape(tf.cast(box, tf.float32), [4]),
        "negative": tf.ensure_shape(negative, []),
        "failed": tf.ensure_shape(failed, []),
    }


def resolve_pipeline(choice: str, sampler: sampling.PairSampler) -> str:
    """`data.pipeline` -> "graph" or "python" for the sampler's datasets.

    "auto" is "graph" when every sampled frame is a file, "python" when some are made
    in memory (layout synthetic); "graph" on in-memory frames is a ConfigError.
    """
    if choice not in PIPELINES:
        raise ConfigError(f"data.pipeline={choice!r}: expected one of {PIPELINES}")
    in_memory = sorted(
        {seq.dataset or seq.name for src in sampler.usable for seq, _ in src if seq.loader}
    )
    if choice == "graph" and in_memory:
        raise ConfigError(
            f"data.pipeline='graph' reads frames from files, but {in_memory} generates them "
            "in memory: use data.pipeline=auto (or python), or write the data as a folder "
            "with mode=write_synthetic and train from it"
        )
    if choice == "auto":
        return "python" if in_memory else "graph"
    return choice


def make_dataset(
    sampler: sampling.PairSampler,
    *,
    global_batch_size: int,
    start_step: int = 0,
    process_index: int = 0,
    process_count: int = 1,
    num_parallel_calls: int = -1,
    prefetch: int = 2,
    num_threads: int = 0,
    errors: PipelineErrors | None = None,
    pipeline: str = "auto",
) -> tf.data.Dataset:
    """This process's local batches (dicts of `[B / P, ...]` tensors), deterministic.

    Besides `template`, `search`, `box` and `negative`, a batch holds `failed` (bool
    `[B / P]`): examples that could not be made (sampling raised, or no readable pair
    in `max_attempts`), recorded in `errors`. `pipeline` (`data.pipeline`, see
    `resolve_pipeline`): "python" samples and decodes in `pair_map_fn`, "graph" in
    TensorFlow ops (`graph_pairs`); the two draw different random numbers.
    """
    if global_batch_size % process_count:
        raise ConfigError(
            f"train.batch_size={global_batch_size} is not divisible by {process_count} processes"
        )
    local = global_batch_size // process_count
    calls = tf.data.AUTOTUNE if num_parallel_calls < 0 else max(1, num_parallel_calls)
    ds = example_indices(start_step, global_batch_size, process_index, process_count)
    if resolve_pipeline(pipeline, sampler) == "graph":
        from data_pipelines import graph_pairs  # imports this module

        ds = graph_pairs.GraphPairs(sampler, errors).examples(ds, calls)
    else:
        ds = ds.map(pair_map_fn(sampler, errors), num_parallel_calls=calls, deterministic=True)
    ds = ds.batch(local, drop_remainder=True)
    ds = ds.prefetch(tf.data.AUTOTUNE if prefetch < 0 else prefetch)
    options = tf.data.Options()
    options.deterministic = True
    options.threading.max_intra_op_parallelism = 1
    if num_threads > 0:
        options.threading.private_threadpool_size = num_threads
    return ds.with_options(options)


def local_batches(
    data: Mapping[str, Any],
    **kwargs,
) -> Iterator[dict[str, np.ndarray]]:
    """NumPy local batches (no JAX); `train_batches` shards them. See `_local_batches`."""
    gen = _local_batches(data, **kwargs)
    _OPEN_ITERATORS.add(gen)
    return gen


def _local_batches(
    data: Mapping[str, Any],
    *,
    seed: int,
    global_batch_size: int,
    start_step: int = 0,
    process_index: int = 0,
    process_count: int = 1,
    sampler: sampling.PairSampler | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """NumPy local batches of this process (dicts of `[B / P, ...]` arrays).

    An error while making an example is raised here, in the consuming thread, after
    the tf.data iterator (and its threads) are stopped.
    """
    sampler = sampler or make_sampler(data, seed)
    errors = PipelineErrors()
    ds = make_dataset(
        sampler,
        global_batch_size=global_batch_size,
        start_step=start_step,
        process_index=process_index,
        process_count=process_count,
        num_parallel_calls=int(data["num_parallel_calls"]),
        prefetch=int(data["prefetch"]),
        num_threads=int(data["num_threads"]),
        errors=errors,
        pipeline=str(data["pipeline"]),
    )
    iterator = ds.as_numpy_iterator()
    failure: BaseException | None = None
    try:
        while True:
            try:
                batch = next(iterator)
            except StopIteration:
                return
            except tf.errors.OpError as e:  # a TensorFlow op failed (not our Python code)
                failure = DatasetError(_error_line(e.message))
                break
            if batch.pop("failed").any():
                failure = errors.first()
                break
            yield batch
    finally:
        # Stop the tf.data threads now, while the interpreter is fully alive: an
        # iterator left to the garbage collector at exit deadlocks against threads
        # still inside `tf.numpy_function`.
        del iterator
        gc.collect()
    if failure is not None:
        raise failure


@atexit.register
def _close_open_iterators() -> None:
    """Closes live pipelines before interpreter teardown.

    A tf.data iterator left alive at exit keeps threads that run `tf.numpy_function`;
    they deadlock against Python's finalisation and the process never exits.
    """
    for gen in list(_OPEN_ITERATORS):
        gen.close()


def _error_line(message: str) -> str:
    """The Python exception line out of a tf.numpy_function error message."""
    for line in reversed(message.splitlines()):
        line = line.strip()
        if "Error:" in line and not line.startswith("[["):
            return line.split("Error: ", 1)[-1]
    return message.strip().splitlines()[0]


def train_batches(
    data: Mapping[str, Any], *, seed: int, global_batch_size: int, mesh, start_step: int = 0
) -> Iterator[dict[str, jax.Array]]:
    """Global batches sharded over the mesh's `data` axis (see module docstring)."""
    num_devices = mesh.devices.size
    if global_batch_size % num_devices:
        raise ConfigError(
            f"train.batch_size={global_batch_size} is not divisible by {num_devices} devices"
        )
    sharding = parallel.batch_sharding(mesh)
    batches = local_batches(
        data,
        seed=seed,
        global_batch_size=global_batch_size,
        start_step=start_step,
        process_index=jax.process_index(),
        process_count=jax.process_count(),
    )
    for batch in batches:
        yield {k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()}


def input_counters() -> dict[str, float]:
    """Numbers the training log and `metrics.jsonl` carry with each interval:
    `unreadable_frames`, the distinct frames this process could not decode so far."""
    return {"unreadable_frames": float(len(sampling.SKIPPED.bad_paths))}


def skipped_frames() -> dict[str, Any]:
    """Frames skipped so far in this process: `count` (skips, any reason), `paths`
    (distinct unreadable frames) and `bad_box_paths` (frames whose box lies outside)."""
    stats = sampling.SKIPPED
    return {
        "count": stats.count,
        "paths": sorted(stats.bad_paths),
        "bad_box_paths": sorted(stats.logged - stats.bad_paths),
    }
