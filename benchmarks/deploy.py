"""Whole-step and network-only frames/s of teachers and students: JAX vs onnxruntime.

    python -m benchmarks.deploy [--out FILE] [--frames N] [--backends jax,onnx,onnx_qdq]

One run measures every (model, backend) pair on the same synthetic sequence
(data_pipelines synthetic test split, 640x480 frames): the whole tracking step
(crop, network, post-processing, box fetch; `run_sequence` timing, after
compilation) and the network alone (`Tracker.network_seconds`: search branch +
head on all scales). Weights are random (speed does not depend on them). The
models cover the reference shapes measured with the peers' own code on this
CPU (2 threads, whole step): siamfc-pytorch SiamFC AlexNetV1 9.7 frames/s and
pysot SiamRPN AlexNet (siamrpn_alex_dwxcorr, search 287) 12.2 frames/s; the
JSON gives each backend's ratio to them (goal: 1.5x).
"""

from __future__ import annotations

from benchmarks.timing import arguments, write_json
from dsiam_jax import models as M
from dsiam_jax.models import TrackerModel
from dsiam_jax.tracking import build_tracker, run_sequence

PYSOT_DW = M.ModelSpec(
    kind="siamrpn",
    head="depthwise",
    channels=(96, 256, 384, 384, 256),
    groups=(1,) * 5,
    final_bn=True,
    head_channels=256,
)
# name -> (spec, tracker search size, reference whole-step frames/s of the peer code)
MODELS = {
    "siamfc_teacher": (M.teacher_spec("siamfc"), 255, 9.7),
    "siamfc_student": (M.teacher_spec("siamfc").replace(channels=(24, 64, 96, 96, 64)), 255, None),
    "pysot_siamrpn_alexnet_dw": (PYSOT_DW, 287, 12.2),
    "siamrpn_dw_student": (
        PYSOT_DW.replace(channels=(24, 64, 96, 96, 64), head_channels=64),
        287,
        None,
    ),
    "siamrpn_teacher": (M.teacher_spec("siamrpn"), 271, None),
    "siamrpn_student": (
        M.teacher_spec("siamrpn").replace(channels=(48, 128, 192, 192, 128)),
        271,
        None,
    ),
}


def tracker_config(search_size: int) -> dict:
    from configs import default

    t = default.tracker_config().to_dict()
    t["siamrpn"]["search_size"] = search_size
    return t


def measure(name, spec, search, reference, backends, sequence, repeats) -> list[dict]:
    model = TrackerModel(name, spec, M.numpy_variables(spec))
    rows = []
    for backend in backends:
        tracker = build_tracker(model, tracker_config(search), backend)
        result = run_sequence(tracker, sequence)
        net_s = tracker.network_seconds(repeats)
        row = {
            "model": name,
            "backend": backend,
            "kind": spec.kind,
            "head": spec.head,
            "channels": list(spec.channels),
            "params": M.num_params(model.variables["params"]),
            "search_size": search,
            "scales": tracker.geometry.num_scales,
            "frames": len(sequence) - 1,
            "whole_step_fps": result.fps,
            "whole_step_ms": 1e3 / result.fps,
            "network_fps": 1.0 / net_s,
            "network_ms": 1e3 * net_s,
            "reference_fps": reference,
            "ratio_to_reference": result.fps / reference if reference else None,
        }
        rows.append(row)
        ref = f"  ({row['ratio_to_reference']:.2f}x reference {reference})" if reference else ""
        print(
            f"{name:<26} {backend:<9} whole step {row['whole_step_fps']:6.1f} fps "
            f"({row['whole_step_ms']:6.1f} ms)  network {row['network_fps']:6.1f} fps "
            f"({row['network_ms']:6.1f} ms){ref}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = arguments(__doc__)  # --repeats: network-only timed calls
    parser.add_argument("--frames", type=int, default=30, help="frames of the sequence")
    parser.add_argument("--backends", default="jax,onnx,onnx_qdq")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()

    from data_pipelines.sequences import read_sequences  # no TensorFlow

    sequence = read_sequences(
        "synthetic", "", "test", num_sequences=1, sequence_length=args.frames, frame_size=(640, 480)
    )[0]
    backends = [b for b in args.backends.split(",") if b]
    rows = []
    for name in [m for m in args.models.split(",") if m]:
        spec, search, reference = MODELS[name]
        rows += measure(name, spec, search, reference, backends, sequence, args.repeats)
    meta = {
        "threads": 2,
        "frame_size": [640, 480],
        "sequence": sequence.name,
        "notes": "whole step = crop + network + post-processing + box fetch, after "
        "compilation; network = search branch + head on all scales; onnxruntime "
        "sessions use 2 intra-op threads, JAX uses XLA:CPU's default pool (2 cores)",
    }
    path = write_json("deploy", {"meta": meta, "rows": rows}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
