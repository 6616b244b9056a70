"""Many sequences tracked at once: across sequences in one program, `lax.scan` over frames.

    results = track_batched(tracker, sequences, batch_size=8, chunk=8)

Sequences are grouped by frame size (a compiled step has one frame shape) and,
within a group, sorted by length and cut into batches of `batch_size`. A batch
runs as one compiled function per chunk of `chunk` frames: a `lax.scan` over the
chunk of a step applied to every sequence of the batch, either `jax.vmap`-ed
(`impl='vmap'`: one batched network call, what accelerators want) or as a
`lax.map` loop (`impl='map'`: batch-1 network calls; XLA:CPU runs those faster).
`impl='auto'` takes the choice of the tracker network's `Lowering`
(`dsiam_jax.models.lowering`). Sequences that have ended are padded with empty
frames and their state is frozen (`jnp.where`; under `map`, `lax.cond` skips
their step). Frames cross to the device once per chunk, loaded on a background
thread while the previous chunk computes.

Both lowerings run `Tracker.track_fn`, the single-sequence step, so the boxes
equal those of `run_sequence` (up to float rounding of the batched convs).
Sequences whose frames change size fall back to the single-sequence loop.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections import defaultdict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from dsiam_jax.errors import ConfigError
from dsiam_jax.models.lowering import Lowering
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.runner import TrackResult, run_frames
from dsiam_jax.tracking.tracker import Tracker


def resolve_impl(impl: str, lowering: Lowering | None = None) -> str:
    """'map' or 'vmap': `impl`, or for 'auto' the lowering's choice (default: this backend's)."""
    return (lowering or Lowering.for_backend()).replace(batch_impl=impl).batched_tracking


class BatchedRunner:
    """Compiled init and chunk functions of one tracker for one lowering."""

    def __init__(self, tracker: Tracker, impl: str = "auto"):
        if not tracker.network.jittable:
            raise ConfigError(
                f"batched tracking needs a jittable network; backend {tracker.network.name!r} "
                "is not: use the single-sequence loop (eval.batched=False)"
            )
        self.tracker = tracker
        self.impl = resolve_impl(impl, tracker.network.lowering)
        # 'map' calls the network as the tracker does (its compile options); 'vmap' on
        # whole batches, so XLA's defaults.
        jit = tracker.network.jit if self.impl == "map" else jax.jit
        self.init = jit(self._init)
        self.chunk = jit(self._chunk)
        self.warm: set[tuple] = set()  # (frame shape, batch, chunk) already compiled

    @classmethod
    def for_tracker(cls, tracker: Tracker, impl: str = "auto") -> BatchedRunner:
        """The runner of `tracker` for `impl`, cached on the tracker (compiles once)."""
        cache = tracker.__dict__.setdefault("_batched_runners", {})
        impl = resolve_impl(impl, tracker.network.lowering)
        if impl not in cache:
            cache[impl] = cls(tracker, impl)
        return cache[impl]

    def _init(self, params, frames: jax.Array, boxes: jax.Array):
        """frames `[B, H, W, 3]`, boxes `[B, 4]` -> batched state."""
        init = lambda f, b: self.tracker.init_fn(params, f, b)
        if self.impl == "vmap":
            return jax.vmap(init)(frames, boxes)
        return lax.map(lambda fb: init(*fb), (frames, boxes))

    def _chunk(self, params, states, frames: jax.Array, valid: jax.Array):
        """frames `[C, B, H, W, 3]`, valid `[C, B]` -> (states, boxes [C, B, 4], scores [C, B])."""
        track = self.tracker.track_fn

        def one(state, frame, ok):
            if self.impl == "map":
                skip = lambda: (state, jnp.zeros(4, jnp.float32), jnp.zeros((), jnp.float32))
                return lax.cond(ok, lambda: track(params, state, frame), skip)
            new, box, score = track(params, state, frame)
            new = jax.tree_util.tree_map(lambda n, o: jnp.where(ok, n, o), new, state)
            return new, box, score

        def step(carry, inputs):
            frames_t, valid_t = inputs
            if self.impl == "vmap":
                carry, box, score = jax.vmap(one)(carry, frames_t, valid_t)
            else:
                carry, box, score = lax.map(lambda a: one(*a), (carry, frames_t, valid_t))
            return carry, (box, score)

        states, (boxes, scores) = lax.scan(step, states, (frames, valid))
        return states, boxes, scores


def _load_chunk(seqs: list, lengths: list[int], start: int, chunk: int, shape) -> tuple:
    """Frames `[C, B, H, W, 3]` uint8 and valid `[C, B]` for frames start..start+chunk-1."""
    frames = np.zeros((chunk, len(seqs), *shape), np.uint8)
    valid = np.zeros((chunk, len(seqs)), bool)
    for b, (seq, n) in enumerate(zip(seqs, lengths)):
        for c in range(chunk):
            i = start + c
            if i < n:
                frame = F.prepare_frame(seq.load_frame(i))
                if frame.shape != shape:
                    raise _SizeChange(b)
                frames[c, b], valid[c, b] = frame, True
    return frames, valid


class _SizeChange(Exception):
    """A sequence's frames change size mid-sequence (handled by the loop fallback)."""


def _run_batch(
    runner: BatchedRunner, seqs, lengths, boxes0, chunk: int, num_real: int
) -> list[TrackResult]:
    """One batch of equal-frame-size sequences; slots from `num_real` on are padding."""
    tracker = runner.tracker
    frames0 = [F.prepare_frame(s.load_frame(0)) for s in seqs]
    shape = frames0[0].shape
    total = max(lengths)
    boxes = [np.zeros((n, 4)) for n in lengths]
    scores = [np.ones(n) for n in lengths]
    init_boxes = np.stack([F.check_init_box(b, shape[:2]) for b in boxes0]).astype(np.float32)
    t0 = time.perf_counter()
    states = jax.block_until_ready(runner.init(tracker.params, np.stack(frames0), init_boxes))
    init_seconds = time.perf_counter() - t0
    elapsed = 0.0
    starts = list(range(1, total, chunk))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        load = lambda start: pool.submit(_load_chunk, seqs, lengths, start, chunk, shape)
        pending = load(starts[0]) if starts else None
        for k, start in enumerate(starts):
            frames, valid = pending.result()
            if k + 1 < len(starts):
                pending = load(starts[k + 1])
            t0 = time.perf_counter()
            states, bx, sc = runner.chunk(tracker.params, states, frames, valid)
            bx, sc = np.asarray(bx), np.asarray(sc)  # [C, B, 4], [C, B]
            elapsed += time.perf_counter() - t0
            for b, n in enumerate(lengths):
                stop = min(start + chunk, n)
                if stop > start:
                    boxes[b][start:stop] = bx[: stop - start, b]
                    scores[b][start:stop] = sc[: stop - start, b]
    # Amortised seconds: the batch's init call shared by its sequences (frame 1), and
    # its chunk calls shared by the tracked frames 2..N of the real sequences.
    per_frame = elapsed / max(sum(n - 1 for n in lengths[:num_real]), 1)
    per_init = init_seconds / max(num_real, 1)
    results = []
    for b, n in enumerate(lengths):
        boxes[b][0] = np.asarray(boxes0[b], np.float64)
        results.append(
            TrackResult(
                boxes[b],
                scores[b],
                np.concatenate([[per_init], np.full(n - 1, per_frame)]),
                (shape[1], shape[0]),
            )
        )
    return results


def warmup_batched(runner: BatchedRunner, batch: int, chunk: int, shape) -> None:
    """Compiles the init and chunk functions for `batch` sequences of frame `shape`."""
    frames = np.zeros((batch, *shape), np.uint8)
    box = np.asarray([0, 0, max(shape[1] // 4, 1), max(shape[0] // 4, 1)], np.float32)
    states = runner.init(runner.tracker.params, frames, np.tile(box, (batch, 1)))
    video = np.zeros((chunk, batch, *shape), np.uint8)
    jax.block_until_ready(
        runner.chunk(runner.tracker.params, states, video, np.ones((chunk, batch), bool))
    )


def track_batched(
    tracker: Tracker,
    sequences: list[Any],
    init_boxes: list[Any] | None = None,
    batch_size: int = 8,
    chunk: int = 8,
    impl: str = "auto",
    warmup: bool = True,
) -> list[TrackResult]:
    """Tracks `sequences` (objects with `__len__` and `load_frame(i)`) from `init_boxes`.

    `init_boxes` defaults to each sequence's `boxes[0]`. Returns one `TrackResult`
    per sequence, in input order; `times` holds the batch's amortised seconds per
    frame (compute only, compilation excluded when `warmup`).
    """
    if batch_size < 1 or chunk < 1:
        raise ConfigError(f"batch_size={batch_size} and chunk={chunk} must be >= 1")
    runner = BatchedRunner.for_tracker(tracker, impl)
    if init_boxes is None:
        init_boxes = [s.boxes[0] for s in sequences]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, seq in enumerate(sequences):
        groups[F.prepare_frame(seq.load_frame(0)).shape].append(i)
    results: list[TrackResult | None] = [None] * len(sequences)
    for shape, members in groups.items():
        members.sort(key=lambda i: -len(sequences[i]))
        width = min(batch_size, len(members))
        for k in range(0, len(members), width):
            idx = members[k : k + width]
            # A short last batch is padded with 1-frame slots (never stepped), so every
            # batch of this frame size shares one compiled shape.
            pad = width - len(idx)
            seqs = [sequences[i] for i in idx] + [sequences[idx[-1]]] * pad
            lengths = [len(sequences[i]) for i in idx] + [1] * pad
            boxes0 = [init_boxes[i] for i in idx] + [init_boxes[idx[-1]]] * pad
            if warmup and (shape, width, chunk) not in runner.warm:
                warmup_batched(runner, width, chunk, shape)
                runner.warm.add((shape, width, chunk))
            try:
                out = _run_batch(runner, seqs, lengths, boxes0, chunk, len(idx))
            except _SizeChange:
                out = [
                    run_frames(tracker, sequences[i].load_frame, len(sequences[i]), init_boxes[i])
                    for i in idx
                ]
            for i, res in zip(idx, out):
                results[i] = res
    return results  # type: ignore[return-value]
