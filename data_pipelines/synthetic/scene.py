"""One synthetic tracking sequence: a scene description drawn from a seed, and its renderer.

A scene is a camera moving (pan and zoom) over one photograph; the target is a
textured cut-out (rectangle, ellipse, polygon or horse silhouette) taken from
another photograph that moves, scales, changes aspect ratio and brightness;
similar distractors (cut from next to the target in the same photograph) wander
around; occluders (texture patches) cross the target's path; frames get
illumination changes, Gaussian or motion blur, and noise.

Everything about a sequence is fixed when the `Scene` is built from a NumPy
Generator; rendering frame `t` is a pure function of (scene, t) (the noise comes
from a generator keyed by the scene's key and `t`), so any frame can be rendered
in any order, in any thread.

Coordinates are the continuous pixel coordinates of `dsiam_jax.crops`; sprites
are drawn with a sub-pixel affine transform so a box covers exactly its sprite.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from data_pipelines.synthetic import photos

SPRITE_RES = 96  # long side of a sprite's texture, pixels
GRID = 12  # visibility is estimated on GRID x GRID points over the target box
ABSENT_BELOW = 0.05  # visible fraction under which the target counts as absent
SHAPES = ("rect", "ellipse", "polygon", "silhouette")
NOISE_MARGIN = 64  # the noise field is this much larger than a frame


@dataclasses.dataclass
class Sprite:
    """A textured cut-out: premultiplied RGBa image and its alpha mask ([h, w] in [0, 1])."""

    image: Image.Image
    mask: np.ndarray


@dataclasses.dataclass
class Track:
    """A sprite's per-frame placement: boxes `[N, 4]` (x, y, w, h) and brightness gain `[N]`."""

    sprite: Sprite
    boxes: np.ndarray
    gain: np.ndarray


@dataclasses.dataclass
class Scene:
    """Everything needed to render and annotate one sequence."""

    key: tuple[int, ...]  # seeds the per-frame noise
    frame_size: tuple[int, int]  # (W, H)
    background: str  # photograph name
    background_size: tuple[int, int]  # the photograph is resized to this once
    camera: np.ndarray  # [N, 3] view centre (u, v) in background pixels, zoom
    target: Track
    target_source: str
    target_shape: str
    distractors: list[Track]
    occluders: list[Track]
    light: np.ndarray  # [N] global brightness gain
    blur: np.ndarray  # [N] blur amount (pixels); 0 = sharp
    motion_blur: np.ndarray  # [N] bool: directional (camera motion) instead of Gaussian
    noise: np.ndarray  # [N] noise standard deviation (grey levels)

    def __len__(self) -> int:
        return len(self.camera)


def smooth_path(rng: np.random.Generator, n: int, lo: float, hi: float, every: float) -> np.ndarray:
    """`[n]` values moving smoothly between random key values in [lo, hi], one key per
    `every` frames (cosine ease between keys)."""
    keys = max(2, math.ceil(n / every) + 1)
    times = np.linspace(0.0, max(n - 1, 1), keys)
    values = rng.uniform(lo, hi, keys)
    t = np.arange(n, dtype=np.float64)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, keys - 2)
    f = (t - times[i]) / (times[i + 1] - times[i])
    f = (1 - np.cos(np.pi * f)) / 2
    return values[i] * (1 - f) + values[i + 1] * f


def _shape_mask(rng: np.random.Generator, shape: str, size: tuple[int, int]) -> np.ndarray:
    """Alpha `[h, w]` of a shape that touches all four sides of its box (antialiased)."""
    w, h = size
    if shape == "silhouette":
        mask = Image.fromarray((photos.silhouette_mask() * 255).astype(np.uint8))
        if rng.random() < 0.5:
            mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return np.asarray(mask.resize((w, h), Image.Resampling.BILINEAR), np.float32) / 255
    ss = 4  # supersampling
    canvas = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    box = (0, 0, w * ss - 1, h * ss - 1)
    if shape == "rect":
        radius = rng.uniform(0.0, 0.3) * min(w, h) * ss
        draw.rounded_rectangle(box, radius=radius, fill=255)
    elif shape == "ellipse":
        draw.ellipse(box, fill=255)
    else:  # polygon: random star-like outline, stretched to touch every side
        k = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.45, 1.0, k)
        px, py = radii * np.cos(angles), radii * np.sin(angles)
        px = (px - px.min()) / (np.ptp(px) + 1e-9) * (w * ss - 1)
        py = (py - py.min()) / (np.ptp(py) + 1e-9) * (h * ss - 1)
        draw.polygon(list(zip(px.tolist(), py.tolist())), fill=255)
    small = canvas.resize((w, h), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255


def make_sprite(
    rng: np.random.Generator, source: str, shape: str, aspect: float, region=None, tint=None
) -> tuple[Sprite, tuple[float, float, float, float]]:
    """Cuts a textured sprite from photograph `source`; returns it and the region used."""
    photo = photos.load_rgb(source)
    pw, ph = photo.size
    if region is None:
        side = rng.uniform(0.2, 0.55) * min(pw, ph)
        rw = min(side * math.sqrt(aspect), pw - 1)
        rh = min(side / math.sqrt(aspect), ph - 1)
        region = (rng.uniform(0, pw - rw), rng.uniform(0, ph - rh), rw, rh)
    x, y, rw, rh = region
    scale = SPRITE_RES / max(aspect, 1 / aspect)
    size = (max(8, round(scale * math.sqrt(aspect))), max(8, round(scale / math.sqrt(aspect))))
    texture = photo.resize(size, Image.Resampling.BILINEAR, box=(x, y, x + rw, y + rh))
    rgb = np.asarray(texture, np.float32)
    if tint is not None:
        rgb = np.clip(rgb * np.asarray(tint, np.float32), 0, 255)
    mask = _shape_mask(rng, shape, size)
    rgba = np.concatenate([rgb * mask[..., None], mask[..., None] * 255], axis=-1)
    image = Image.fromarray(np.round(rgba).astype(np.uint8), "RGBa")
    return Sprite(image, mask), region


def _moving_boxes(rng, n, frame, side, aspect, span, every, scale_range):
    """Boxes `[n, 4]` of an object whose centre wanders within `span` of the frame."""
    w_f, h_f = frame
    lo_x, lo_y = rng.uniform(0.05, 0.95 - span, 2)
    cx = smooth_path(rng, n, lo_x * w_f, (lo_x + span) * w_f, every)
    cy = smooth_path(rng, n, lo_y * h_f, (lo_y + span) * h_f, every)
    scale = np.exp(smooth_path(rng, n, -scale_range, scale_range, every))
    asp = aspect * np.exp(smooth_path(rng, n, -0.2, 0.2, every))
    w, h = side * scale * np.sqrt(asp), side * scale / np.sqrt(asp)
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)


def make_scene(rng: np.random.Generator, key, frame_size=(320, 240), length=40) -> Scene:
    """Draws a whole scene description (camera, target, distractors, occluders, effects)."""
    n, (w_f, h_f) = length, frame_size
    background = str(rng.choice(photos.BACKGROUNDS))
    source = str(rng.choice([s for s in photos.OBJECT_SOURCES if s != background]))
    # Camera: the photograph is resized so the view is a random part of it; pan + zoom.
    pw, ph = photos.load_rgb(background).size
    fit = max(w_f / pw, h_f / ph) * rng.uniform(1.2, 1.8)
    bg_size = (math.ceil(pw * fit), math.ceil(ph * fit))
    every = rng.uniform(6, 20)
    zoom = np.exp(smooth_path(rng, n, 0.0, 0.2, every))
    half_w, half_h = w_f / (2 * zoom), h_f / (2 * zoom)
    u = half_w + smooth_path(rng, n, 0, 1, every) * (bg_size[0] - 2 * half_w)
    v = half_h + smooth_path(rng, n, 0, 1, every) * (bg_size[1] - 2 * half_h)
    camera = np.stack([u, v, zoom], axis=1)
    # Target.
    shape = str(rng.choice(SHAPES))
    if shape == "silhouette":
        sh, sw = photos.silhouette_mask().shape
        aspect = sw / sh
    else:
        aspect = float(np.exp(rng.uniform(-0.9, 0.9)))
    sprite, region = make_sprite(rng, source, shape, aspect)
    side = math.sqrt(np.exp(rng.uniform(np.log(0.01), np.log(0.12))) * w_f * h_f)
    span = rng.uniform(0.2, 0.7)
    boxes = _moving_boxes(rng, n, frame_size, side, aspect, span, every, 0.35)
    target = Track(sprite, boxes, smooth_path(rng, n, 0.7, 1.3, every))
    # Similar distractors: cut next to the target's region, slightly tinted.
    distractors = []
    for _ in range(int(rng.choice(4, p=[0.3, 0.35, 0.2, 0.15]))):
        x, y, rw, rh = region
        shifted = (x + rng.uniform(-0.3, 0.3) * rw, y + rng.uniform(-0.3, 0.3) * rh, rw, rh)
        pw_s, ph_s = photos.load_rgb(source).size
        shifted = (min(max(shifted[0], 0), pw_s - rw), min(max(shifted[1], 0), ph_s - rh), rw, rh)
        d_sprite, _ = make_sprite(rng, source, shape, aspect, shifted, rng.uniform(0.85, 1.15, 3))
        d_side = side * rng.uniform(0.7, 1.3)
        d_boxes = _moving_boxes(
            rng, n, frame_size, d_side, aspect, rng.uniform(0.3, 0.85), every, 0.2
        )
        distractors.append(Track(d_sprite, d_boxes, smooth_path(rng, n, 0.7, 1.3, every)))
    # Occluders: texture patches that cross the target's path.
    occluders = []
    for _ in range(int(rng.choice(3, p=[0.4, 0.45, 0.15]))):
        texture = str(rng.choice(photos.OCCLUDERS))
        o_aspect = float(np.exp(rng.uniform(-1.0, 1.0)))
        o_sprite, _ = make_sprite(rng, texture, str(rng.choice(["rect", "ellipse"])), o_aspect)
        t0 = rng.uniform(0.15, 0.85) * (n - 1)
        crossing = rng.uniform(4, 14)  # frames to cross the target
        centre = boxes[round(t0), :2] + boxes[round(t0), 2:] / 2
        o_side = math.sqrt(boxes[round(t0), 2] * boxes[round(t0), 3]) * rng.uniform(0.7, 1.6)
        ow, oh = o_side * math.sqrt(o_aspect), o_side / math.sqrt(o_aspect)
        angle = rng.uniform(0, 2 * np.pi)
        travel = (o_side + side) * 1.2 / crossing
        t = np.arange(n) - t0
        ocx = centre[0] + t * travel * math.cos(angle)
        ocy = centre[1] + t * travel * math.sin(angle)
        o_boxes = np.stack([ocx - ow / 2, ocy - oh / 2, np.full(n, ow), np.full(n, oh)], axis=1)
        occluders.append(Track(o_sprite, o_boxes, np.full(n, rng.uniform(0.8, 1.1))))
    # Frame effects.
    blur_p = rng.uniform(0.0, 0.35)
    blur = np.where(rng.random(n) < blur_p, rng.uniform(0.6, 2.2, n), 0.0)
    return Scene(
        key=tuple(int(k) for k in key),
        frame_size=(int(w_f), int(h_f)),
        background=background,
        background_size=bg_size,
        camera=camera,
        target=target,
        target_source=source,
        target_shape=shape,
        distractors=distractors,
        occluders=occluders,
        light=smooth_path(rng, n, 0.75, 1.2, every),
        blur=blur,
        motion_blur=rng.random(n) < 0.5,
        noise=rng.uniform(0.0, 6.0) * rng.uniform(0.5, 1.5, n),
    )


@functools.lru_cache(maxsize=128)
def _background_image(name: str, size: tuple[int, int]) -> Image.Image:
    image = photos.load_rgb(name).resize(size, Image.Resampling.LANCZOS)
    image.load()
    return image


def _paste(frame: np.ndarray, sprite: Sprite, box: np.ndarray, gain: float) -> None:
    """Composites `sprite` over `frame` (float32 [H, W, 3], in place) to cover `box` exactly."""
    h_f, w_f = frame.shape[:2]
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(math.floor(x), 0), max(math.floor(y), 0)
    x1, y1 = min(math.ceil(x + w), w_f), min(math.ceil(y + h), h_f)
    if x1 <= x0 or y1 <= y0 or w < 0.5 or h < 0.5:
        return
    image = sprite.image
    if w < image.width / 1.5 or h < image.height / 1.5:  # reduce first (antialiased)
        image = image.resize((max(2, math.ceil(w)), max(2, math.ceil(h))), Image.Resampling.BOX)
    ax, ay = image.width / w, image.height / h
    affine = (ax, 0.0, (x0 - x) * ax, 0.0, ay, (y0 - y) * ay)
    patch = image.transform((x1 - x0, y1 - y0), Image.Transform.AFFINE, affine, Image.BILINEAR)
    p = np.asarray(patch, np.float32)  # [h, w, 4] premultiplied
    alpha = p[..., 3:] / 255.0
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - alpha
    region += p[..., :3] * gain


def render(scene: Scene, t: int) -> np.ndarray:
    """Frame `t` of the scene: RGB uint8 `[H, W, 3]`."""
    w_f, h_f = scene.frame_size
    u, v, zoom = scene.camera[t]
    half_w, half_h = w_f / (2 * zoom), h_f / (2 * zoom)
    bg = _background_image(scene.background, scene.background_size)
    view = bg.resize(
        (w_f, h_f), Image.BILINEAR, box=(u - half_w, v - half_h, u + half_w, v + half_h)
    )
    frame = np.array(view, np.float32)  # [H, W, 3]
    for track in (*scene.distractors, scene.target, *scene.occluders):
        _paste(frame, track.sprite, track.boxes[t], float(track.gain[t]))
    frame *= scene.light[t]
    if scene.blur[t] > 0:
        frame = _blur(scene, t, frame)
    # Noise: a window of a fixed noise field, at an offset drawn for (scene, t).
    field = _noise_field(h_f, w_f)
    oy, ox = np.random.default_rng((*scene.key, t)).integers(0, NOISE_MARGIN, 2)
    frame += field[oy : oy + h_f, ox : ox + w_f] * np.float32(scene.noise[t])
    np.rint(frame, out=frame)
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _noise_field(h: int, w: int) -> np.ndarray:
    """Unit Gaussian noise `[h + M, w + M, 3]` float32, the same in every process."""
    rng = np.random.default_rng(20260101)
    return rng.standard_normal((h + NOISE_MARGIN, w + NOISE_MARGIN, 3), dtype=np.float32)


def _blur(scene: Scene, t: int, frame: np.ndarray) -> np.ndarray:
    amount = float(scene.blur[t])
    if not scene.motion_blur[t]:
        image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
        return np.asarray(image.filter(ImageFilter.GaussianBlur(amount)), np.float32)
    # Directional blur along the camera's motion: mean of shifted copies.
    step = scene.camera[min(t + 1, len(scene) - 1), :2] - scene.camera[max(t - 1, 0), :2]
    direction = step / (np.linalg.norm(step) + 1e-6) if np.any(step) else np.array([1.0, 0.0])
    taps = max(2, round(2 * amount))
    out = np.zeros_like(frame)
    for k in range(taps):
        dx, dy = np.rint(direction * (k - (taps - 1) / 2) * 1.5).astype(int)
        out += np.roll(frame, (int(dy), int(dx)), axis=(0, 1))
    return out / taps


def annotate(scene: Scene) -> dict[str, np.ndarray]:
    """Ground truth per frame: `boxes` [N, 4] (clipped to the frame), `visible` [N] bool,
    `cover` [N] (0..8, visible eighths, as GOT-10k), `cut_by_image` [N] bool."""
    w_f, h_f = scene.frame_size
    g = (np.arange(GRID) + 0.5) / GRID
    gu, gv = np.meshgrid(g, g)  # [G, G] relative positions inside the target box
    mask = scene.target.sprite.mask
    on_target = mask[(gv * mask.shape[0]).astype(int), (gu * mask.shape[1]).astype(int)] > 0.5
    n = len(scene)
    boxes, visible = np.zeros((n, 4)), np.zeros(n, bool)
    cover, cut = np.zeros(n, np.int64), np.zeros(n, bool)
    for t in range(n):
        x, y, w, h = scene.target.boxes[t]
        px, py = x + gu * w, y + gv * h
        seen = on_target & (px >= 0) & (px < w_f) & (py >= 0) & (py < h_f)
        for occ in scene.occluders:
            ox, oy, ow, oh = occ.boxes[t]
            ru, rv = (px - ox) / ow, (py - oy) / oh
            inside = (ru >= 0) & (ru < 1) & (rv >= 0) & (rv < 1)
            om = occ.sprite.mask
            iu = np.clip((ru * om.shape[1]).astype(int), 0, om.shape[1] - 1)
            iv = np.clip((rv * om.shape[0]).astype(int), 0, om.shape[0] - 1)
            seen &= ~(inside & (om[iv, iu] > 0.5))
        ratio = seen.sum() / max(on_target.sum(), 1)
        bx0, by0 = max(x, 0.0), max(y, 0.0)
        bx1, by1 = min(x + w, w_f), min(y + h, h_f)
        cut[t] = (bx0, by0, bx1, by1) != (x, y, x + w, y + h)
        boxes[t] = (bx0, by0, max(bx1 - bx0, 0.0), max(by1 - by0, 0.0))
        visible[t] = ratio >= ABSENT_BELOW and bx1 > bx0 and by1 > by0
        cover[t] = min(8, math.ceil(ratio * 8 - 1e-9))
    return {"boxes": boxes, "visible": visible, "cover": cover, "cut_by_image": cut}
