"""Training pairs as a pure function of (seed, example index): which frames, which crops.

No TensorFlow here. `PairSampler.sample(index)` draws, from a generator keyed by
`(seed, index, attempt)`, a dataset (by mixture weight), a sequence (uniform), a
template frame and a search frame at most `max_gap` frames apart (both visible with
a sane box), the crop geometry with scale/shift jitter, flip, negative pair and the
photometric parameters; it decodes the two frames and returns a `Pair`. The TF
pipeline (`data_pipelines.pairs`) crops and augments it; `pair_numpy` does the same
geometry with the NumPy reference crop, for tests and debugging.

Bad input: a frame that cannot be decoded, or whose decoded size puts the box centre
outside the image, is skipped (counted in `SKIPPED`, logged once per path) and the
pair is drawn again with the next attempt number, so the outcome stays a
deterministic function of the index.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Sequence as SequenceOf

import numpy as np
from absl import logging
from PIL import Image

from data_pipelines.sequences import DatasetError, FrameReadError, Sequence, sane_boxes
from dsiam_jax import crops

PHOTOMETRIC_FIELDS = ("brightness", "contrast", "saturation", "blur_sigma")


class SkipStats:
    """Thread-safe count of skipped frames (unreadable, or box outside the image)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.bad_paths: set[str] = set()  # unreadable frames
        self.logged: set[str] = set()

    def record(self, path: str, reason: str, unreadable: bool = True) -> None:
        """Counts one skip; logs the first per path. An `unreadable` path is remembered
        (skipped without decoding from then on); a bad box is not, as another track of
        the same frame may have a good one."""
        with self._lock:
            self.count += 1
            first = path not in self.bad_paths and path not in self.logged
            self.logged.add(path)
            if unreadable:
                self.bad_paths.add(path)
        if first:
            logging.warning("skipping frame %s: %s", path, reason)

    def is_bad(self, path: str) -> bool:
        return path in self.bad_paths

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.bad_paths.clear()
            self.logged.clear()


SKIPPED = SkipStats()


@dataclasses.dataclass(frozen=True)
class PairConfig:
    """What a pair looks like (from `config.data`; see configs/default.py)."""

    template_size: int = 127
    search_size: int = 255
    context: float = 0.5
    max_gap: int = 100
    negative_prob: float = 0.0
    min_box_size: float = 2.0
    max_aspect_ratio: float = 10.0
    template_scale: float = 0.05
    search_scale: float = 0.18
    template_shift: float = 4.0
    search_shift: float = 64.0
    color: float = 0.1
    blur_prob: float = 0.05
    gray_prob: float = 0.05
    flip_prob: float = 0.05
    max_attempts: int = 32
    decode_reduce: bool = True


@dataclasses.dataclass
class Source:
    """One dataset of a mixture: its sequences and sampling weight."""

    name: str
    sequences: list[Sequence]
    weight: float = 1.0


@dataclasses.dataclass
class Pair:
    """A sampled training pair before cropping.

    Geometry is float64, in the pixels of the decoded images: a JPEG may be decoded
    at 1/2, 1/4 or 1/8 scale (`*_reduction`) when both its crops shrink it at least
    that much, so image coordinates = decoded coordinates x reduction.
    """

    template_image: np.ndarray  # [H, W, 3] uint8
    search_image: np.ndarray  # [H', W', 3] uint8
    template_center: np.ndarray  # [2] (cx, cy)
    template_side: float
    search_center: np.ndarray  # [2]
    search_side: float
    search_box: np.ndarray  # [4] target (x, y, w, h) in the search image
    box: np.ndarray  # [4] target in search-crop pixels (after flip)
    flip: bool
    negative: bool
    gray: bool
    template_photometric: np.ndarray  # [4] PHOTOMETRIC_FIELDS
    search_photometric: np.ndarray  # [4]
    frames: tuple[str, str]  # "dataset/sequence#frame" of template and search
    template_reduction: int = 1
    search_reduction: int = 1


class PairSampler:
    """Stateless pair sampling over weighted sources."""

    def __init__(self, sources: SequenceOf[Source], config: PairConfig, seed: int):
        self.config, self.seed = config, int(seed)
        self._seqs: list[list[tuple[Sequence, np.ndarray]]] = []
        weights = []
        for src in sources:
            usable = []
            for seq in src.sequences:
                ok = np.asarray(seq.visible, bool) & sane_boxes(
                    seq.boxes, seq.image_size, config.min_box_size, config.max_aspect_ratio
                )
                if ok.any():
                    usable.append((seq, np.flatnonzero(ok)))
            if not usable:
                raise DatasetError(f"dataset {src.name}: no sequence has a visible, sane box")
            if src.weight < 0:
                raise DatasetError(f"dataset {src.name}: negative sampling weight {src.weight}")
            self._seqs.append(usable)
            weights.append(float(src.weight))
        if not self._seqs or sum(weights) <= 0:
            raise DatasetError("no dataset to sample from (all weights are zero)")
        self.weights = np.asarray(weights) / sum(weights)
        self.names = [s.name for s in sources]

    @property
    def usable(self) -> list[list[tuple[Sequence, np.ndarray]]]:
        """Per source (in `names` order): its sequences that have a frame to sample, each
        with the indices of those frames (visible, sane box), as `draw` samples them."""
        return self._seqs

    def _pick_sequence(self, rng: np.random.Generator) -> tuple[Sequence, np.ndarray]:
        src = self._seqs[int(rng.choice(len(self._seqs), p=self.weights))]
        return src[int(rng.integers(len(src)))]

    def _load(self, seq: Sequence, i: int, shrink: float) -> tuple[np.ndarray, int] | None:
        """Frame `i` (decoded at 1/reduction scale when `shrink` allows) and the reduction."""
        path = seq.frames[i] if seq.loader is None else f"{seq.name}#{i}"
        if SKIPPED.is_bad(path):
            return None
        try:
            if seq.loader is None and self.config.decode_reduce and shrink >= 2:
                image, reduction, size = decode_reduced(path, shrink)
            else:
                image, reduction = seq.load_frame(i), 1
                size = (image.shape[1], image.shape[0])
        except FrameReadError as e:
            SKIPPED.record(path, str(e))
            return None
        if not sane_boxes(seq.boxes[i : i + 1], size)[0]:
            box = [float(v) for v in seq.boxes[i]]
            SKIPPED.record(path, f"box {box} outside the {size[0]}x{size[1]} image", False)
            return None
        return image, reduction

    def _photometric(self, rng: np.random.Generator) -> np.ndarray:
        c = self.config.color
        blur = rng.uniform(0.3, 1.5) if rng.random() < self.config.blur_prob else 0.0
        return np.array([*(1.0 + rng.uniform(-c, c, 2)), 1.0 + rng.uniform(-2 * c, 2 * c), blur])

    def _jitter(self, rng, box, size: int, scale: float, shift: float, factor: float = 1.0):
        """Crop centre and side around `box`, with scale jitter and shift in crop pixels."""
        x, y, w, h = box
        side = crops.context_side(w, h, self.config.context) * factor
        side *= 1.0 + rng.uniform(-scale, scale)
        centre = np.array([x + w / 2, y + h / 2]) + rng.uniform(-shift, shift, 2) * side / size
        return centre, float(side)

    def draw(self, index: int, attempt: int) -> Pair | None:
        """One attempt at pair `index`; None when a frame had to be skipped."""
        cfg = self.config
        rng = np.random.default_rng((self.seed, int(index), int(attempt)))
        seq, valid = self._pick_sequence(rng)
        t = int(valid[rng.integers(len(valid))])
        negative = rng.random() < cfg.negative_prob
        if negative:
            s_seq, s_valid = self._pick_sequence(rng)
            s = int(s_valid[rng.integers(len(s_valid))])
        else:
            lo = np.searchsorted(valid, t - cfg.max_gap, side="left")
            hi = np.searchsorted(valid, t + cfg.max_gap, side="right")
            s_seq, s = seq, int(valid[lo + rng.integers(hi - lo)])
        ratio = cfg.search_size / cfg.template_size
        t_box, s_box = seq.boxes[t], s_seq.boxes[s]
        t_c, t_side = self._jitter(
            rng, t_box, cfg.template_size, cfg.template_scale, cfg.template_shift
        )
        s_c, s_side = self._jitter(
            rng, s_box, cfg.search_size, cfg.search_scale, cfg.search_shift, ratio
        )
        if negative and s_seq is seq:  # drew the same video: look away from the target
            s_c = s_c + rng.choice([-1.0, 1.0], 2) * s_side * rng.uniform(0.6, 1.0, 2)
        flip = rng.random() < cfg.flip_prob
        gray = rng.random() < cfg.gray_prob
        photo_t, photo_s = self._photometric(rng), self._photometric(rng)
        t_shrink, s_shrink = t_side / cfg.template_size, s_side / cfg.search_size
        same_frame = s_seq is seq and s == t
        t_load = self._load(seq, t, min(t_shrink, s_shrink) if same_frame else t_shrink)
        s_load = t_load if same_frame else self._load(s_seq, s, s_shrink)
        if t_load is None or s_load is None:
            return None
        (t_img, t_red), (s_img, s_red) = t_load, s_load
        box = crops.box_to_crop(np.asarray(s_box, np.float64), s_c, s_side, cfg.search_size)
        if flip:
            box[0] = cfg.search_size - box[0] - box[2]
        return Pair(
            t_img, s_img, t_c / t_red, t_side / t_red, s_c / s_red, s_side / s_red,
            np.asarray(s_box, np.float64) / s_red, box, bool(flip), bool(negative), bool(gray),
            photo_t, photo_s,
            (f"{seq.dataset}/{seq.name}#{t}", f"{s_seq.dataset}/{s_seq.name}#{s}"), t_red, s_red,
        )  # fmt: skip

    def sample(self, index: int) -> Pair:
        """Pair `index` (deterministic); retries past skipped frames."""
        for attempt in range(self.config.max_attempts):
            pair = self.draw(index, attempt)
            if pair is not None:
                return pair
        raise DatasetError(
            f"no readable pair for example {index} in {self.config.max_attempts} attempts "
            f"({SKIPPED.count} frames skipped so far, e.g. {sorted(SKIPPED.bad_paths)[:3]})"
        )


def decode_reduced(path: str, shrink: float) -> tuple[np.ndarray, int, tuple[int, int]]:
    """Decodes an image, a JPEG at the coarsest 1/2^k scale (k <= 3) not below 1/`shrink`
    (libjpeg DCT scaling through PIL's draft mode: faster, and antialiased).

    Returns RGB uint8 `[h, w, 3]`, the reduction 2^k and the full size (W, H). Pixel
    (r, c) of the result covers full-size pixels [c 2^k, (c+1) 2^k) x [r 2^k, (r+1) 2^k).
    """
    try:
        with Image.open(path) as img:
            size = img.size
            reduction = 1
            if img.format == "JPEG":
                want = 2 ** min(3, int(math.floor(math.log2(max(shrink, 1.0)))))
                img.draft("RGB", (math.ceil(size[0] / want), math.ceil(size[1] / want)))
                reduction = round(size[0] / img.size[0]) if img.size[0] else 1
            image = np.asarray(img.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as e:
        raise FrameReadError(f"cannot read frame {path}: {e}") from e
    if reduction > 1 and image.shape[1] != math.ceil(size[0] / reduction):
        reduction = 1  # not a DCT-scaled result: treat as full size
    return image, reduction, size


def pair_numpy(sampler: PairSampler, index: int, crop_fn=crops.crop_numpy) -> dict:
    """Example `index` with NumPy crops and no photometric augmentation (reference/debug).

    Returns `template` uint8 `[T, T, 3]`, `search` uint8 `[S, S, 3]`, `box` float32 `[4]`,
    `negative` bool and the `pair` (geometry) it came from. Equals the TF pipeline's
    output when colour, blur and grayscale augmentation are off.
    """
    cfg = sampler.config
    pair = sampler.sample(index)
    template = crop_fn(
        pair.template_image, pair.template_center, pair.template_side, cfg.template_size
    )
    search = crop_fn(pair.search_image, pair.search_center, pair.search_side, cfg.search_size)
    if pair.flip:
        template, search = template[:, ::-1], search[:, ::-1]
    to_uint8 = lambda a: np.clip(np.rint(np.asarray(a)), 0, 255).astype(np.uint8)
    return {
        "template": to_uint8(template),
        "search": to_uint8(search),
        "box": pair.box.astype(np.float32),
        "negative": pair.negative,
        "pair": pair,
    }
