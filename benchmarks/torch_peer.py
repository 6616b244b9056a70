"""A PyTorch SiamFC tracker that runs siamfc-pytorch's per-frame steps, timed beside ours.

siamfc-pytorch (the peer issue 18 measures against) is not on a package index, so the
tracking benchmark carries this stand-in, written from the algorithm its
`TrackerSiamFC.update` runs (SPEC's SiamFC tracker settings, `SiamFCConfig`'s
defaults): three search crops of the context region around the box, resized to 255 px
with the frame's mean colour outside it; AlexNetV1 (BatchNorm, grouped conv2/4/5, its
state_dict keys, so `torch_import`'s `siamfc_alexnet` format reads it); the
cross-correlation with the template's feature times 0.001; bicubic upsampling of the
17x17 maps x16; the side scales' penalty; the scale with the highest peak; min-shift,
normalisation and the Hann window; the peak's displacement and the damped size.

Where siamfc-pytorch calls OpenCV (crop: pad + `cv2.resize`; upsampling:
`cv2.resize(INTER_CUBIC)`), this uses torch's `grid_sample` and `interpolate`: the
same bilinear samples as `dsiam_jax.crops` and the same A = -0.75 half-pixel cubic
(`tests/test_torch_peer.py` checks the network, the crop and the update against
ours and a NumPy reference). Torch runs with its default threads (all cores).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dsiam_jax.tracking.siamfc import SiamFCConfig

TEACHER_CHANNELS = (96, 256, 384, 384, 256)
TEACHER_GROUPS = (1, 2, 1, 2, 2)
_KERNELS = (11, 5, 3, 3, 3)
_STRIDES = (2, 1, 1, 1, 1)
OUT_SCALE = 1e-3  # siamfc-pytorch's SiamFC head
TOTAL_STRIDE = 8


class AlexNetV1(nn.Module):
    """siamfc-pytorch's AlexNetV1: conv{1-5}.{0: conv, 1: BatchNorm (eps 1e-6)}, ReLU,
    max-pool after conv1 and conv2, no BatchNorm or ReLU after conv5."""

    def __init__(self, channels=TEACHER_CHANNELS, groups=TEACHER_GROUPS):
        super().__init__()
        widths = (3, *channels)
        for i in range(5):
            conv = nn.Conv2d(widths[i], widths[i + 1], _KERNELS[i], _STRIDES[i], groups=groups[i])
            parts = [conv]
            if i < 4:
                parts += [nn.BatchNorm2d(widths[i + 1], eps=1e-6), nn.ReLU(inplace=True)]
            if i < 2:
                parts.append(nn.MaxPool2d(3, 2))
            setattr(self, f"conv{i + 1}", nn.Sequential(*parts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(5):
            x = getattr(self, f"conv{i + 1}")(x)
        return x


class SiamFCNet(nn.Module):
    """`backbone` + the parameter-free correlation head (one template, N search crops)."""

    def __init__(self, channels=TEACHER_CHANNELS, groups=TEACHER_GROUPS):
        super().__init__()
        self.backbone = AlexNetV1(channels, groups)

    def response(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Template feature `[1, C, 6, 6]`, search crops `[N, 3, S, S]` -> `[N, R, R]`."""
        return F.conv2d(self.backbone(x), kernel)[:, 0] * OUT_SCALE


def crop(frame: torch.Tensor, fill: torch.Tensor, centers, sides, out_size: int) -> torch.Tensor:
    """Square crops of `frame [1, 3, H, W]` (float) -> `[N, 3, out, out]`.

    Crop n samples the frame bilinearly at (cx - side/2 + (j + 0.5) side/out - 0.5, ...)
    in pixel-index coordinates, `fill [3]` outside the frame (`dsiam_jax.crops`).
    """
    _, _, h, w = frame.shape
    j = torch.arange(out_size, dtype=torch.float64) + 0.5
    grids = []
    for (cx, cy), side in zip(centers, sides, strict=True):
        px = cx - side / 2 + j * side / out_size - 0.5  # [out] pixel indices
        py = cy - side / 2 + j * side / out_size - 0.5
        gx = (2 * px + 1) / w - 1  # grid_sample, align_corners=False
        gy = (2 * py + 1) / h - 1
        grids.append(torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1))
    grid = torch.stack(grids).float()  # [N, out, out, 2] as (x, y)
    shifted = (frame - fill[None, :, None, None]).expand(len(grids), -1, -1, -1)
    out = F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill[None, :, None, None]


class PeerTracker:
    """siamfc-pytorch's `TrackerSiamFC` steps (`init(frame, box)`, `update(frame) -> box`),
    frames uint8 `[H, W, 3]` RGB, boxes (x, y, w, h)."""

    def __init__(self, net: SiamFCNet, cfg: SiamFCConfig | None = None):
        self.net = net.eval()
        self.cfg = cfg = cfg or SiamFCConfig()
        half = cfg.num_scales // 2
        self.factors = cfg.scale_step ** np.arange(-half, half + 1, dtype=np.float64)
        self.up = None  # upsampled side, from the response size at init
        self.window = None

    @staticmethod
    def _frame(frame: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()

    @torch.no_grad()
    def init(self, frame: np.ndarray, box) -> None:
        c = self.cfg
        x, y, w, h = (float(v) for v in box)
        self.center = np.array([x + w / 2, y + h / 2])
        self.size = np.array([w, h])
        p = c.context * (w + h)
        self.z_side = math.sqrt((w + p) * (h + p))
        self.x_side = self.z_side * c.search_size / c.template_size
        image = self._frame(frame)
        self.fill = image.mean(dim=(0, 2, 3))  # the first frame's mean colour, kept
        z = crop(image, self.fill, [self.center], [self.z_side], c.template_size)
        self.kernel = self.net.backbone(z)  # [1, C, 6, 6]

    @torch.no_grad()
    def responses(self, frame: np.ndarray) -> torch.Tensor:
        """The network's `[S, R, R]` maps on the scale pyramid around the current box."""
        sides = [self.x_side * f for f in self.factors]
        x = crop(self._frame(frame), self.fill, [self.center] * len(sides), sides,
                 self.cfg.search_size)  # fmt: skip
        return self.net.response(self.kernel, x)

    @torch.no_grad()
    def update_from(self, responses: torch.Tensor) -> np.ndarray:
        """The box after one frame from its `[S, R, R]` response maps."""
        c = self.cfg
        r = responses.shape[-1]
        up = r * c.response_up
        if self.up != up:
            self.up = up
            hann = torch.from_numpy(np.outer(np.hanning(up), np.hanning(up)))
            self.window = (hann / hann.sum()).float()
        maps = F.interpolate(responses[:, None], size=(up, up), mode="bicubic",
                             align_corners=False)[:, 0]  # fmt: skip
        half = c.num_scales // 2
        penalty = torch.full((c.num_scales,), c.scale_penalty)
        penalty[half] = 1.0
        maps = maps * penalty[:, None, None]
        best = int(torch.argmax(maps.amax(dim=(1, 2))))
        m = maps[best] - maps[best].min()
        m = m / (m.sum() + 1e-16)
        m = (1 - c.window_influence) * m + c.window_influence * self.window
        row, col = divmod(int(torch.argmax(m)), up)
        disp = np.array([col, row], np.float64) - (up - 1) / 2  # upsampled px
        factor = self.factors[best]
        disp = disp * (TOTAL_STRIDE / c.response_up) * self.x_side * factor / c.search_size
        self.center = self.center + disp
        scale = (1 - c.scale_lr) + c.scale_lr * factor
        self.size, self.z_side, self.x_side = (
            self.size * scale, self.z_side * scale, self.x_side * scale
        )  # fmt: skip
        return np.concatenate([self.center - self.size / 2, self.size])

    def update(self, frame: np.ndarray) -> np.ndarray:
        """One tracking step: the box (x, y, w, h) in `frame`."""
        return self.update_from(self.responses(frame))


def track_fps(tracker: PeerTracker, load, num_frames: int, init_box) -> float:
    """Whole-step frames/s over frames 2..N (as `run_frames` times ours: frame in memory,
    box on the host)."""
    tracker.init(load(0), init_box)
    frames = [load(i) for i in range(1, num_frames)]
    times = []
    for frame in frames:
        t0 = time.perf_counter()
        tracker.update(frame)
        times.append(time.perf_counter() - t0)
    return len(times) / sum(times)
