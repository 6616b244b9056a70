"""Training pairs made by TensorFlow ops only: the graph path of `data_pipelines.pairs`.

For datasets whose frames are files (every layout but synthetic), example `g` is:

1. Draws from one stateless random op keyed by (seed, g, attempt) (`GraphPairs.draw`,
   `Uniforms`): dataset by mixture weight, sequence (uniform), template frame, search
   frame at most `max_gap` frames away (or, with `negative_prob`, a frame of any
   sequence, the crop pushed off the target when it is the same sequence), scale/shift
   jitter, flip, grayscale and photometric parameters. Same rules and distributions as
   `sampling.PairSampler.draw` (integers as floor(n U), U float64), other random
   numbers: the two paths make different examples from the same seed.
2. `tf.io.read_file` + `tf.io.decode_jpeg(ratio=r)` (libjpeg DCT scaling, r in {1, 2,
   4, 8} the largest the crops' shrink allows, as `sampling.decode_reduced`) or
   `tf.io.decode_image` for other formats (`load_frame`).
3. `pairs.finish_example`: crop, flip and photometric augmentation (shared with the
   Python path).

Tables of every sampleable frame (visible, sane box: `sampling.PairSampler.usable`)
live in tensors: paths, boxes, frame numbers, per-sequence rows, per-dataset
sequences and weights.

Unreadable frames: an attempt whose frame fails to read or decode, or whose box
centre lies outside the decoded frame, raises inside tf.data; each example is a small
dataset of attempts 0, 1, ... with errors ignored, of which the first success is
taken (`GraphPairs.example_dataset`). Example g is thus the same whatever the timing
or the number of processes. The skipped frames of the failed attempts are found
again (Python, only when attempt > 0) and counted in `sampling.SKIPPED` like the
Python path's (an unreadable one is then refused before reading it again); no
readable pair in `max_attempts` marks the example failed with a `DatasetError` in
`errors`.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import tensorflow as tf

from data_pipelines import pairs, sampling
from data_pipelines.sequences import DatasetError, sane_boxes
from dsiam_jax import crops

RNG_ALG = "philox"
MAX_LOG2_REDUCTION = 3  # JPEG DCT scaling down to 1/8


# The uniforms of one attempt, one vector from one stateless op: (name, how many).
DRAWS = (
    ("source", 1), ("sequence", 1), ("template_frame", 1), ("negative", 1),
    ("negative_source", 1), ("negative_sequence", 1), ("negative_frame", 1),
    ("search_frame", 1), ("template_scale", 1), ("template_shift", 2), ("search_scale", 1),
    ("search_shift", 2), ("look_away_sign", 2), ("look_away_size", 2), ("flip", 1),
    ("gray", 1), ("template_photometric", 5), ("search_photometric", 5),
)  # fmt: skip
_SLOTS = {name: (sum(n for _, n in DRAWS[:i]), n) for i, (name, n) in enumerate(DRAWS)}
NUM_UNIFORMS = sum(n for _, n in DRAWS)


class Uniforms:
    """U[0, 1) float64 draws of one attempt, by name (`DRAWS`)."""

    def __init__(self, key: tf.Tensor):
        self.values = tf.random.stateless_uniform(
            [NUM_UNIFORMS], key, dtype=tf.float64, alg=RNG_ALG
        )  # [NUM_UNIFORMS]

    def __call__(self, name: str, low=0.0, high=1.0) -> tf.Tensor:
        """Draw `name` in U[low, high) (a scalar, or `[n]` for a draw of n values)."""
        start, n = _SLOTS[name]
        u = self.values[start] if n == 1 else self.values[start : start + n]
        return low + (high - low) * u if (low, high) != (0.0, 1.0) else u

    def below(self, name: str, n: tf.Tensor) -> tf.Tensor:
        """Draw `name` as an int64 uniform in [0, n) (floor of n U: bias below 2^-50)."""
        k = tf.cast(tf.floor(self(name) * tf.cast(n, tf.float64)), tf.int64)
        return tf.minimum(k, n - 1)


@dataclasses.dataclass(frozen=True)
class FrameTables:
    """Every sampleable frame of the sampler's datasets, as tensors (rows = frames)."""

    paths: tf.Tensor  # [V] string
    boxes: tf.Tensor  # [V, 4] float64 (x, y, w, h) in full-frame pixels
    frame_numbers: tf.Tensor  # [V] int64 frame index within its sequence
    sequence_start: tf.Tensor  # [S] int64 first row of each sequence
    sequence_length: tf.Tensor  # [S] int64 rows of each sequence
    source_first_sequence: tf.Tensor  # [D] int64
    source_num_sequences: tf.Tensor  # [D] int64
    source_cumulative_weight: tf.Tensor  # [D] float64, inf past the last weighted source

    @classmethod
    def from_sampler(cls, sampler: sampling.PairSampler) -> FrameTables:
        """The tables of `sampler.usable` (frames must be files: `loader` None)."""
        paths, boxes, numbers, seq_start, seq_length, first, count = [], [], [], [], [], [], []
        for usable in sampler.usable:
            first.append(len(seq_start))
            count.append(len(usable))
            for seq, valid in usable:
                if seq.loader is not None:
                    raise ValueError(f"sequence {seq.name} has no frame files")
                seq_start.append(len(paths))
                seq_length.append(len(valid))
                paths.extend(seq.frames[i] for i in valid)
                boxes.append(np.asarray(seq.boxes, np.float64)[valid])
                numbers.append(valid)
        cumulative = np.cumsum(sampler.weights)
        cumulative[np.flatnonzero(sampler.weights)[-1] :] = np.inf  # u < inf: no round-off
        i64 = lambda v: tf.constant(np.asarray(v, np.int64).reshape(-1), tf.int64)
        return cls(
            paths=tf.constant(paths, tf.string),
            boxes=tf.constant(np.concatenate(boxes), tf.float64),
            frame_numbers=i64(np.concatenate(numbers)),
            sequence_start=i64(seq_start),
            sequence_length=i64(seq_length),
            source_first_sequence=i64(first),
            source_num_sequences=i64(count),
            source_cumulative_weight=tf.constant(cumulative, tf.float64),
        )


def log2_reduction(shrink: tf.Tensor, enabled: bool) -> tf.Tensor:
    """k with 2^k the JPEG decode reduction for a crop that shrinks the frame `shrink`
    times: the largest 2^k <= shrink, k <= 3 (`sampling.decode_reduced`), 0 if off."""
    if not enabled:
        return tf.zeros_like(shrink, tf.int32)
    steps = [shrink >= 2.0 ** (k + 1) for k in range(MAX_LOG2_REDUCTION)]
    return tf.add_n([tf.cast(s, tf.int32) for s in steps])


def load_frame(path: tf.Tensor, log2_red: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Decodes a frame file: a JPEG at 1/2^`log2_red` scale (DCT scaling), others full size.

    Returns RGB uint8 `[h, w, 3]`, the reduction (int32: 2^k, or 1 for non-JPEG) and the
    full frame size `[2]` (H, W) int32. Raises (inside tf.data) on an unreadable file.
    """
    contents = tf.io.read_file(path)

    def jpeg():
        decoders = [
            lambda r=2**k: tf.io.decode_jpeg(
                contents, channels=3, ratio=r, dct_method="INTEGER_ACCURATE"
            )
            for k in range(MAX_LOG2_REDUCTION + 1)
        ]
        image = tf.switch_case(log2_red, decoders)
        return image, tf.bitwise.left_shift(1, log2_red), tf.io.extract_jpeg_shape(contents)[:2]

    def other():
        image = tf.io.decode_image(contents, channels=3, expand_animations=False)
        return image, tf.constant(1), tf.shape(image)[:2]

    image, reduction, size = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
    return tf.ensure_shape(image, [None, None, 3]), reduction, size


def box_inside(box: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """`sane_boxes(box, image_size)` of a sampleable box: at least 1 px, centre in the frame."""
    x, y, w, h = tf.unstack(box)
    height, width = tf.unstack(tf.cast(size, tf.float64))
    cx, cy = x + w / 2, y + h / 2
    return (w >= 1) & (h >= 1) & (cx >= 0) & (cy >= 0) & (cx <= width) & (cy <= height)


class GraphPairs:
    """Examples of a `sampling.PairSampler`'s datasets and config, in TensorFlow ops."""

    def __init__(self, sampler: sampling.PairSampler, errors: pairs.PipelineErrors | None = None):
        self.config, self.seed, self.errors = sampler.config, sampler.seed, errors
        self.tables = FrameTables.from_sampler(sampler)
        # Frames found unreadable (by `record_skips`): later attempts fail without reading
        # them again. Only saves time: such a frame fails its attempt either way.
        self.unreadable = tf.lookup.experimental.MutableHashTable(tf.string, tf.bool, False)

    def _pick_sequence(self, u: Uniforms, source: str, sequence: str) -> tf.Tensor:
        """A sequence id: dataset by weight, then uniform among its sequences."""
        t = self.tables
        draw = u(source)[None]
        src = tf.searchsorted(t.source_cumulative_weight, draw, "right", tf.int64)[0]
        return t.source_first_sequence[src] + u.below(sequence, t.source_num_sequences[src])

    def _pick_row(self, u: Uniforms, name: str, sequence) -> tf.Tensor:
        t = self.tables
        return t.sequence_start[sequence] + u.below(name, t.sequence_length[sequence])

    def _near_row(self, u: Uniforms, name: str, sequence, row) -> tf.Tensor:
        """A row of `sequence` at most `max_gap` frames from `row` (uniform over them)."""
        t, gap = self.tables, self.config.max_gap
        start = t.sequence_start[sequence]
        numbers = t.frame_numbers[start : start + t.sequence_length[sequence]]
        n = t.frame_numbers[row]
        lo = tf.searchsorted(numbers, [n - gap], "left", tf.int64)[0]
        hi = tf.searchsorted(numbers, [n + gap], "right", tf.int64)[0]
        return start + lo + u.below(name, hi - lo)

    def _jitter(self, u: Uniforms, kind: str, box, size: int, scale, shift, factor=1.0):
        """Crop centre `[2]` and side around `box`, as `PairSampler._jitter`."""
        x, y, w, h = tf.unstack(box)
        side = crops.context_side(w, h, self.config.context) * factor
        side = side * (1.0 + u(f"{kind}_scale", -scale, scale))
        centre = tf.stack([x + w / 2, y + h / 2])
        return centre + u(f"{kind}_shift", -shift, shift) * side / size, side

    def _photometric(self, u: Uniforms, name: str) -> tf.Tensor:
        """`[4]` brightness, contrast, saturation factors and blur sigma (0 = none)."""
        c, v = self.config.color, u(name)  # [5]
        blur = tf.cast(v[0] < self.config.blur_prob, tf.float64) * (0.3 + 1.2 * v[1])
        factors = 1.0 + (2.0 * v[2:] - 1.0) * tf.constant([c, c, 2 * c], tf.float64)
        return tf.cast(tf.concat([factors, blur[None]], 0), tf.float32)

    def draw(self, index, attempt) -> dict[str, tf.Tensor]:
        """The random choices of one attempt at example `index` (no file is read).

        Rows of the frame tables, crop centres `[2]` / sides in full-frame pixels
        (float64), flip / negative / gray, photometric parameters and the JPEG decode
        reductions (log2) of the template and search frames.
        """
        cfg, t = self.config, self.tables
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(index, tf.int64)])
        attempt = tf.cast(attempt, tf.int64)  # the same keys for Python ints and tensors
        u = Uniforms(tf.random.experimental.stateless_fold_in(seed, attempt, alg=RNG_ALG))
        sequence = self._pick_sequence(u, "source", "sequence")
        t_row = self._pick_row(u, "template_frame", sequence)
        negative = u("negative") < cfg.negative_prob
        other = self._pick_sequence(u, "negative_source", "negative_sequence")
        s_row = tf.where(
            negative,
            self._pick_row(u, "negative_frame", other),
            self._near_row(u, "search_frame", sequence, t_row),
        )
        ratio = cfg.search_size / cfg.template_size
        t_box, s_box = t.boxes[t_row], t.boxes[s_row]
        t_c, t_side = self._jitter(
            u, "template", t_box, cfg.template_size, cfg.template_scale, cfg.template_shift
        )
        s_c, s_side = self._jitter(
            u, "search", s_box, cfg.search_size, cfg.search_scale, cfg.search_shift, ratio
        )
        sign = 1.0 - 2.0 * tf.cast(u("look_away_sign") < 0.5, tf.float64)
        away = sign * s_side * u("look_away_size", 0.6, 1.0)
        s_c = tf.where(negative & tf.equal(other, sequence), s_c + away, s_c)
        t_shrink, s_shrink = t_side / cfg.template_size, s_side / cfg.search_size
        same_frame = tf.equal(t_row, s_row)
        t_shrink = tf.where(same_frame, tf.minimum(t_shrink, s_shrink), t_shrink)
        return {
            "template_row": t_row,
            "search_row": s_row,
            "same_frame": same_frame,
            "template_center": t_c,
            "template_side": t_side,
            "search_center": s_c,
            "search_side": s_side,
            "flip": u("flip") < cfg.flip_prob,
            "negative": negative,
            "gray": u("gray") < cfg.gray_prob,
            "template_photometric": self._photometric(u, "template_photometric"),
            "search_photometric": self._photometric(u, "search_photometric"),
            "template_log2_reduction": log2_reduction(t_shrink, cfg.decode_reduce),
            "search_log2_reduction": log2_reduction(s_shrink, cfg.decode_reduce),
        }

    def _load_checked(self, row, log2_red) -> tuple[tf.Tensor, tf.Tensor]:
        """Decoded frame of table row `row` and its reduction (float64); raises inside
        tf.data when the frame is unreadable or its box centre is outside it."""
        path = self.tables.paths[row]
        known_bad = self.unreadable.lookup(path)
        with tf.control_dependencies([tf.debugging.Assert(~known_bad, ["unreadable"])]):
            image, reduction, size = load_frame(tf.identity(path), log2_red)
        inside = tf.debugging.Assert(box_inside(self.tables.boxes[row], size), ["box outside"])
        with tf.control_dependencies([inside]):
            return tf.identity(image), tf.cast(reduction, tf.float64)

    def decoded_pair(self, index, attempt) -> dict[str, tf.Tensor]:
        """Attempt `attempt` at example `index` up to decoding: what `pairs.finish_example`
        takes (`template_image`, `search_image`, `geometry` in their pixels, `box` in
        search-crop pixels, `flags`, photometric parameters). Raises when a frame is bad."""
        cfg, d = self.config, self.draw(index, attempt)
        t_img, t_red = self._load_checked(d["template_row"], d["template_log2_reduction"])
        s_img, s_red = tf.cond(
            d["same_frame"],
            lambda: (t_img, t_red),
            lambda: self._load_checked(d["search_row"], d["search_log2_reduction"]),
        )
        s_box = self.tables.boxes[d["search_row"]]
        scale = cfg.search_size / d["search_side"]  # crops.box_to_crop, in TF
        x, y = tf.unstack((s_box[:2] - (d["search_center"] - d["search_side"] / 2)) * scale)
        w, h = s_box[2] * scale, s_box[3] * scale
        x = tf.where(d["flip"], cfg.search_size - x - w, x)
        geometry = tf.concat(
            [d["template_center"] / t_red, [d["template_side"] / t_red],
             d["search_center"] / s_red, [d["search_side"] / s_red]], 0,
        )  # fmt: skip
        return {
            "template_image": t_img,
            "search_image": s_img,
            "geometry": tf.cast(geometry, tf.float32),
            "box": tf.cast(tf.stack([x, y, w, h]), tf.float32),
            "flags": tf.stack([d["flip"], d["negative"], d["gray"], tf.constant(False)]),
            "template_photometric": d["template_photometric"],
            "search_photometric": d["search_photometric"],
        }

    def attempt_example(self, index, attempt) -> dict[str, tf.Tensor]:
        """The example of attempt `attempt` (raises on a bad frame); counts the skipped
        frames of the attempts before it (`record_skips`, only when attempt > 0)."""
        p = self.decoded_pair(index, attempt)
        example = pairs.finish_example(
            self.config, p["template_image"], p["search_image"], p["geometry"], p["box"],
            p["flags"], p["template_photometric"], p["search_photometric"],
        )  # fmt: skip
        with tf.control_dependencies(list(example.values())):  # once this attempt succeeded
            done = tf.cond(
                attempt > 0,
                lambda: tf.py_function(self.record_skips, [index, attempt], tf.int64),
                lambda: tf.constant(0, tf.int64),
            )
        with tf.control_dependencies([done]):
            return {k: tf.identity(v) for k, v in example.items()}

    def failed_example(self, index) -> dict[str, tf.Tensor]:
        """Example `index` after `max_attempts` failed attempts: zeros, flagged failed;
        the `DatasetError` goes to `errors` (raised into TensorFlow without)."""
        done = tf.py_function(self._record_failure, [index], tf.int64)
        cfg = self.config
        with tf.control_dependencies([done]):
            return {
                "template": tf.zeros([cfg.template_size] * 2 + [3], tf.uint8),
                "search": tf.zeros([cfg.search_size] * 2 + [3], tf.uint8),
                "box": tf.zeros([4], tf.float32),
                "negative": tf.constant(False),
                "failed": tf.constant(True),
            }

    def example_dataset(self, index) -> tf.data.Dataset:
        """One element: the first attempt at `index` that decodes, else `failed_example`."""
        attempts = tf.data.Dataset.range(self.config.max_attempts)
        attempts = attempts.map(lambda a: self.attempt_example(index, a)).ignore_errors()
        failed = tf.data.Dataset.from_tensors(index).map(self.failed_example)
        return attempts.concatenate(failed).take(1)

    def examples(self, indices: tf.data.Dataset, num_parallel_calls: int) -> tf.data.Dataset:
        """The examples of `indices` (int64 scalars), in order, `num_parallel_calls` made
        at once (`tf.data.AUTOTUNE`: one per core)."""
        return indices.interleave(
            self.example_dataset,
            cycle_length=num_parallel_calls,
            block_length=1,
            num_parallel_calls=num_parallel_calls,
            deterministic=True,
        )

    def record_skips(self, index, attempts) -> np.int64:
        """Counts in `sampling.SKIPPED` the bad frames of attempts `0 .. attempts - 1` at
        example `index` (eager; runs only after a failed attempt)."""
        count = 0
        for attempt in range(int(attempts)):
            d = self.draw(index, attempt)
            rows = [("template_row", "template_log2_reduction")]
            if not bool(d["same_frame"]):
                rows.append(("search_row", "search_log2_reduction"))
            for row_key, red_key in rows:
                count += self._record_if_bad(int(d[row_key]), d[red_key])
        return np.int64(count)

    def _record_if_bad(self, row: int, log2_red: tf.Tensor) -> int:
        """1 (and `SKIPPED.record`) if frame `row` is unreadable or its box is outside it."""
        path = self.tables.paths[row].numpy().decode()
        if sampling.SKIPPED.is_bad(path):
            return 0  # found before (the Python path skips it without counting)
        try:
            _, _, size = load_frame(self.tables.paths[row], log2_red)
        except tf.errors.OpError as e:
            sampling.SKIPPED.record(path, f"cannot read frame {path}: {_op_message(e)}")
            self.unreadable.insert(self.tables.paths[row][None], tf.constant([True]))
            return 1
        box = self.tables.boxes[row].numpy()
        height, width = (int(v) for v in size.numpy())
        if not sane_boxes(box[None], (width, height))[0]:
            where = f"box {[float(v) for v in box]} outside the {width}x{height} image"
            sampling.SKIPPED.record(path, where, unreadable=False)
            return 1
        return 0

    def _record_failure(self, index) -> np.int64:
        index = int(index)
        self.record_skips(index, self.config.max_attempts)
        stats = sampling.SKIPPED
        error = DatasetError(
            f"no readable pair for example {index} in {self.config.max_attempts} attempts "
            f"({stats.count} frames skipped so far, e.g. {sorted(stats.bad_paths)[:3]})"
        )
        if self.errors is None:
            raise error
        self.errors.record(index, error)
        return np.int64(0)


def _op_message(error: tf.errors.OpError) -> str:
    """A TensorFlow op error's own words, without the function/op decorations."""
    text = re.sub(r"\{\{[^}]*\}\}|\[Op:[^\]]*\].*$", "", error.message, flags=re.S)
    return " ".join(text.split())
