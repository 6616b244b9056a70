"""Whole-step tracking frames/s of teachers and students, single-sequence and batched.

    python -m benchmarks.tracking [--out FILE] [--frames N] [--batch B] [--quick]

For each model: the network alone (search branch + head on the search crops, all
scales), the whole per-frame step in the one-sequence loop (frame upload, crop,
network, post-processing, box fetch), and the aggregate frames/s of
`track_batched` over B sequences (lax.map over sequences on CPU, vmap on
accelerators, `--batch-impl` to force one). Frames are synthetic 640x360 RGB
with a moving textured target; weights are random (speed does not depend on
them). Plus, for the SiamFC teacher (JAX), the step's parts (`step_parts`: frame
upload, crops, network, post-processing, whole step) and the 3-scale network as one
batch vs a `lax.map` loop; and the zoo models as a user gets them (`default_trackers`:
`config.backend=auto`, which picks int8 onnxruntime for a model whose recorded
accuracy change allows it), whole step and parts, with each student's success AUC gap
to its teacher from the publish records (`zoo_students`: fastest first, and whether
it is within 0.03). And, when PyTorch is installed,
the SiamFC teacher against a PyTorch tracker running siamfc-pytorch's steps on the
same weights (`benchmarks/torch_peer.py`; `teacher_vs_peer`): whole-step frames/s of
ours on the JAX backend (with and without its Winograd lowering) and the `auto`
backend and of the peer, in interleaved rounds, and their ratios.

Network, single-sequence and batched runs are measured in `--rounds`
interleaved rounds and the best round of each is reported (all rounds are in
the JSON): other jobs on a shared machine inflate individual timings.
Reference points measured on the 2-core CPU machine on earlier days (whole step per
frame, 255-640 px frames): siamfc-pytorch's SiamFC 9.7 frames/s; pysot's SiamRPN
AlexNet (depthwise head, search 287) 12.2 frames/s, 13.6 for its network alone.
Needs JAX and Flax only (no TensorFlow, no ml_collections): runs on a GPU box too.
"""

from __future__ import annotations

import jax
import numpy as np

from benchmarks.timing import arguments, time_fn, write_json
from dsiam_jax import checkpoints
from dsiam_jax import models as M
from dsiam_jax.export import torch_import
from dsiam_jax.models import TrackerModel
from dsiam_jax.tracking import build_tracker, run_frames, track_batched

# A zoo student "tracks" when its success AUC is within this of its kind's teacher's
# (issue 18's bar; both from the publish records: JAX float32, 64 synthetic test scenes).
TRACKS_WITHIN = 0.03
REFERENCES = {
    "siamfc_teacher": {"whole_fps": 9.7, "source": "siamfc-pytorch, AlexNet groups, 3 scales"},
    "pysot_siamrpn_alexnet": {
        "whole_fps": 12.2,
        "network_fps": 13.6,
        "source": "pysot siamrpn_alex_dwxcorr, search 287",
    },
}


# pysot's tracker as timed against it: one 287 px search crop per frame.
PYSOT_TRACKER = {"siamrpn": {"search_size": 287, "num_scales": 1}}


def quarter(spec: M.ModelSpec) -> M.ModelSpec:
    changes = {"channels": tuple(c // 4 for c in spec.channels)}
    if spec.kind == "siamrpn":
        changes["head_channels"] = spec.rpn_channels // 4
    return spec.replace(**changes)


def model_list(quick: bool) -> list[tuple[str, M.ModelSpec, dict]]:
    fc = M.teacher_spec("siamfc")
    rpn = M.teacher_spec("siamrpn")
    pysot = M.ModelSpec(
        kind="siamrpn", head="depthwise", channels=(96, 256, 384, 384, 256), groups=(1,) * 5,
        final_bn=True,
    )  # fmt: skip
    rows = [
        ("siamfc_teacher", fc, {}),
        ("siamfc_student_quarter", quarter(fc), {}),
        ("pysot_siamrpn_alexnet", pysot, PYSOT_TRACKER),
        ("pysot_siamrpn_student_quarter", quarter(pysot), PYSOT_TRACKER),
        ("siamrpn_student_quarter", quarter(rpn), {}),
    ]
    if not quick:
        rows.insert(4, ("siamrpn_teacher", rpn, {}))
    return rows


class SyntheticClip:
    """640x360 frames, a 60x45 textured target moving 3 px/frame right, 1 px down."""

    def __init__(self, n: int, seed: int = 0, hw=(360, 640)):
        rng = np.random.default_rng(seed)
        self.background = rng.integers(40, 200, (*hw, 3)).astype(np.uint8)
        self.texture = rng.integers(0, 256, (45, 60, 3)).astype(np.uint8)
        self.n = n
        self.boxes = np.asarray([[100 + 3 * i, 100 + i, 60, 45] for i in range(n)], float)

    def __len__(self) -> int:
        return self.n

    def load_frame(self, i: int) -> np.ndarray:
        f = self.background.copy()
        x, y = int(self.boxes[i, 0]), int(self.boxes[i, 1])
        f[y : y + 45, x : x + 60] = self.texture
        return f


def measure(name, spec, tracker_cfg, frames, batch, batch_impl, repeats, rounds) -> dict:
    model = TrackerModel(name, spec, M.numpy_variables(spec))
    tracker = build_tracker(model, tracker_cfg)
    clip = SyntheticClip(frames)
    clips = [SyntheticClip(frames, seed=s) for s in range(batch)]
    chunk = min(8, frames)
    run_frames(tracker, clip.load_frame, min(frames, 3), clip.boxes[0])  # compile + warm
    track_batched(tracker, clips[:batch], batch_size=batch, chunk=chunk, impl=batch_impl)
    per_round = []
    for _ in range(rounds):  # interleaved, so a busy spell hits all three alike
        net_s = tracker.network_seconds(repeats)
        single = run_frames(tracker, clip.load_frame, frames, clip.boxes[0])
        batched = track_batched(tracker, clips, batch_size=batch, chunk=chunk, impl=batch_impl)
        per_round.append(
            {
                "network_ms": 1e3 * net_s,
                "single_fps": single.fps,
                "single_step_min_ms": 1e3 * float(single.times[1:].min()),
                "batched_fps": batched[0].fps,  # amortised over the batch, frames 2..N
            }
        )
    best_net = min(r["network_ms"] for r in per_round)
    best_single = max(r["single_fps"] for r in per_round)
    row = {
        "name": name,
        "kind": spec.kind,
        "head": spec.head,
        "channels": list(spec.channels),
        "params": M.num_params(model.variables["params"]),
        "search_size": tracker.geometry.search_size,
        "scales": tracker.geometry.num_scales,
        "network_ms": best_net,
        "network_fps": 1e3 / best_net,
        "single_step_ms": 1e3 / best_single,
        "single_fps": best_single,
        "single_step_min_ms": min(r["single_step_min_ms"] for r in per_round),
        "batched_fps": max(r["batched_fps"] for r in per_round),
        "batched_sequences": batch,
        "batched_impl": batch_impl,
        "frames_per_sequence": frames,
        "rounds": per_round,
    }
    ref = REFERENCES.get(name)
    if ref:
        row["reference"] = ref
        row["ratio_single_fps_to_reference"] = best_single / ref["whole_fps"]
        if "network_fps" in ref:
            row["ratio_network_fps_to_reference"] = row["network_fps"] / ref["network_fps"]
    print(
        f"{name:<30} network {row['network_ms']:7.1f} ms ({row['network_fps']:6.1f} fps)  "
        f"whole step {row['single_step_ms']:7.1f} ms ({row['single_fps']:6.1f} fps)  "
        f"batched x{batch} {row['batched_fps']:6.1f} fps",
        flush=True,
    )
    return row


def step_parts(tracker, repeats: int) -> dict[str, float]:
    """Milliseconds of each part of one tracking step (median of `repeats`), on a 640x360
    frame: frame upload, the search crops, their fetch to the host (non-jittable
    networks), the network, its outputs' upload, the post-processing (upsampling, window,
    penalties, box update), and the whole step `Tracker.track` (box fetched)."""
    clip = SyntheticClip(2)
    host_frame = clip.load_frame(1)
    state = tracker.init(clip.load_frame(0), clip.boxes[0])
    frame = jax.device_put(host_frame)
    hw = tuple(frame.shape[:2])
    t = lambda f: 1e3 * time_fn(f, repeats)["median_s"]
    parts = {"upload_frame_ms": t(lambda: jax.device_put(host_frame))}
    parts["crops_ms"] = t(lambda: tracker._search_crops(state, frame))
    x = tracker._search_crops(state, frame)
    if tracker.network.jittable:
        search = tracker.network.jit(tracker.network.search)
        outputs = search(tracker.params, state.kernels, x)
        parts["network_ms"] = t(lambda: search(tracker.params, state.kernels, x))
    else:
        parts["fetch_crops_ms"] = t(lambda: np.asarray(x))
        x = np.asarray(x)
        parts["network_ms"] = t(lambda: tracker.network.search(tracker.params, state.kernels, x))
        host = tracker.network.search(tracker.params, state.kernels, x)
        parts["upload_outputs_ms"] = t(lambda: jax.device_put(host))
        outputs = jax.device_put(host)
    parts["postprocess_ms"] = t(lambda: tracker._update(state, outputs, hw))
    parts["whole_step_ms"] = t(lambda: tracker.track(state, host_frame)[1])
    parts["overhead_ms"] = parts["whole_step_ms"] - parts["network_ms"]
    return parts


def siamfc_scales(model: TrackerModel, repeats: int) -> dict:
    """A SiamFC model's 3 scales as one batch vs a lax.map loop (JAX network)."""
    return {
        f"network_ms_scales_{impl}": 1e3
        * build_tracker(model, {"scales_impl": impl}).network_seconds(repeats)
        for impl in ("map", "batch")
    }


def default_trackers(frames: int, repeats: int, rounds: int) -> list[dict]:
    """Every zoo model as a user gets it (`config.backend=auto`, default settings):
    whole-step frames/s on the synthetic clip (best of `rounds`) and the step's parts."""
    rows = []
    for name in checkpoints.zoo_models():
        model = checkpoints.load_models(name)[name]
        tracker = build_tracker(model, None, "auto")
        clip = SyntheticClip(frames)
        run_frames(tracker, clip.load_frame, min(frames, 3), clip.boxes[0])  # compile, warm
        fps = max(
            run_frames(tracker, clip.load_frame, frames, clip.boxes[0]).fps for _ in range(rounds)
        )
        row = {
            "name": name,
            "kind": model.spec.kind,
            "role": model.role,
            "channels": list(model.spec.channels),
            "backend": tracker.network.name,
            "backend_check": model.info.get("backend_check", {}),
            "whole_fps": fps,
            "parts_ms": step_parts(tracker, repeats),
        }
        rows.append(row)
        print(f"default tracker {name:<20} {row['backend']:<9} {fps:6.1f} fps", row["parts_ms"])
    return rows


def jax_auc(row: dict) -> float | None:
    """The model's JAX float32 success AUC from its publish record, if it has one."""
    return row["backend_check"].get("onnx_qdq", {}).get("reference_success_auc")


def zoo_students(defaults: list[dict]) -> list[dict]:
    """Each zoo student's whole-step frames/s with its AUC gap to its kind's teacher
    (publish records) and whether it tracks (gap <= TRACKS_WITHIN), fastest first."""
    teachers = {r["kind"]: r for r in defaults if r["role"] == "teacher"}
    out = []
    for r in defaults:
        teacher = teachers.get(r["kind"])
        if r["role"] != "student" or teacher is None:
            continue
        auc, teacher_auc = jax_auc(r), jax_auc(teacher)
        if auc is None or teacher_auc is None:
            continue
        gap = teacher_auc - auc
        out.append(
            {
                "name": r["name"],
                "backend": r["backend"],
                "whole_fps": r["whole_fps"],
                "auc_gap_to_teacher": gap,
                "tracks": gap <= TRACKS_WITHIN,
            }
        )
    return sorted(out, key=lambda r: -r["whole_fps"])


def teacher_vs_peer(frames: int, rounds: int) -> dict | None:
    """The SiamFC teacher's whole step, ours (JAX backend and `auto`) against the PyTorch
    peer (`torch_peer`: siamfc-pytorch's steps), all on the peer's random weights read
    through `torch_import`, on the synthetic clip in `rounds` interleaved rounds (best
    of each kept); None when PyTorch is not installed."""
    try:
        from benchmarks import torch_peer
    except ImportError:
        return None
    net = torch_peer.SiamFCNet().eval()
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    spec, variables = torch_import.convert("siamfc_alexnet", state)
    model = TrackerModel("siamfc_teacher", spec, variables)
    ours = {b: build_tracker(model, None, b) for b in ("jax", "auto")}
    # The JAX backend on XLA:CPU's default kernels (YNNPACK, with the lowerings it takes:
    # Winograd for conv3-5) instead of the tracker's Eigen ones (`model.conv_library`).
    ours["jax_ynn"] = build_tracker(model, None, "jax", conv_library="ynn")
    peer = torch_peer.PeerTracker(net)
    clip = SyntheticClip(frames)
    warm = min(frames, 3)
    for tracker in ours.values():
        run_frames(tracker, clip.load_frame, warm, clip.boxes[0])  # compile, warm
    torch_peer.track_fps(peer, clip.load_frame, warm, clip.boxes[0])
    per_round = []
    for _ in range(rounds):
        fps = {
            b: run_frames(t, clip.load_frame, frames, clip.boxes[0]).fps for b, t in ours.items()
        }
        fps["torch_peer"] = torch_peer.track_fps(peer, clip.load_frame, frames, clip.boxes[0])
        per_round.append(fps)
    best = {k: max(r[k] for r in per_round) for k in per_round[0]}
    row = {
        "whole_fps": best,
        "auto_backend": ours["auto"].network.name,
        "torch_threads": torch_peer.torch.get_num_threads(),
        "ratio_jax_to_peer": best["jax"] / best["torch_peer"],
        "ratio_auto_to_peer": best["auto"] / best["torch_peer"],
        "ratio_jax_to_jax_ynn": best["jax"] / best["jax_ynn"],
        "rounds": per_round,
    }
    print("siamfc teacher vs torch peer:", {k: round(v, 2) for k, v in best.items()}, flush=True)
    return row


def main() -> None:
    parser = arguments(__doc__, repeats=7)
    parser.add_argument("--frames", type=int, default=12, help="frames per sequence")
    parser.add_argument("--batch", type=int, default=4, help="sequences per batched run")
    parser.add_argument("--batch-impl", default="auto", choices=("auto", "map", "vmap"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best kept")
    parser.add_argument("--quick", action="store_true", help="skip the 90 M-param RPN teacher")
    args = parser.parse_args()
    rows = [
        measure(n, s, c, args.frames, args.batch, args.batch_impl, args.repeats, args.rounds)
        for n, s, c in model_list(args.quick)
    ]
    by = {r["name"]: r for r in rows}
    ratios = {
        "siamfc_student_speedup_single": by["siamfc_student_quarter"]["single_fps"]
        / by["siamfc_teacher"]["single_fps"],
    }
    if "siamrpn_teacher" in by:
        ratios["siamrpn_student_speedup_single"] = (
            by["siamrpn_student_quarter"]["single_fps"] / by["siamrpn_teacher"]["single_fps"]
        )
    spec = M.teacher_spec("siamfc")
    teacher = TrackerModel("siamfc_teacher", spec, M.numpy_variables(spec))
    breakdown = {
        **siamfc_scales(teacher, args.repeats),
        **step_parts(build_tracker(teacher), args.repeats),
    }
    print("siamfc teacher (JAX) step:", {k: round(v, 2) for k, v in breakdown.items()})
    peer = teacher_vs_peer(args.frames, args.rounds)
    if peer is not None:
        ratios["siamfc_teacher_jax_over_torch_peer"] = peer["ratio_jax_to_peer"]
        ratios["siamfc_teacher_auto_over_torch_peer"] = peer["ratio_auto_to_peer"]
        ratios["siamfc_teacher_jax_eigen_over_ynn"] = peer["ratio_jax_to_jax_ynn"]
    defaults = default_trackers(args.frames, args.repeats, args.rounds)
    by_default = {r["name"]: r for r in defaults}
    ratios["default_siamfc_student_over_teacher"] = (
        by_default["siamfc_student_0"]["whole_fps"] / by_default["siamfc_teacher"]["whole_fps"]
    )
    students = zoo_students(defaults)
    tracking = [r for r in students if r["tracks"]]
    if tracking:
        ratios["fastest_tracking_zoo_student_fps"] = tracking[0]["whole_fps"]
        print(f"fastest zoo student within {TRACKS_WITHIN} of its teacher: {tracking[0]}")
    path = write_json(
        "tracking",
        {
            "models": rows,
            "ratios": ratios,
            "siamfc_teacher_breakdown": breakdown,
            "default_trackers": defaults,
            "zoo_students": students,
            "siamfc_teacher_vs_torch_peer": peer,
        },
        args.out,
    )
    print(f"ratios {ratios}\nwrote {path}")


if __name__ == "__main__":
    main()
