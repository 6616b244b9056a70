"""Template and search forward time (and frames/s) of teachers and quarter-width students.

    python -m benchmarks.forward [--out FILE] [--repeats N]

Also sweeps the width of the first conv (11x11/2 on 255x255x3), a known XLA:CPU
trap where some widths are several times slower than wider ones.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.timing import arguments, time_fn, write_json
from dsiam_jax import model_summary
from dsiam_jax import models as M


def quarter(spec: M.ModelSpec) -> M.ModelSpec:
    changes = {"channels": tuple(c // 4 for c in spec.channels)}
    if spec.kind == "siamrpn":
        changes["head_channels"] = spec.rpn_channels // 4
    return spec.replace(**changes)


def measure(name: str, spec: M.ModelSpec, search: int, scales: int, repeats: int) -> dict:
    model = M.build(spec)
    v = M.init_variables(model, jax.random.PRNGKey(0))
    rng = np.random.default_rng(0)
    z = jnp.asarray(rng.uniform(0, 255, (1, 127, 127, 3)), jnp.float32)
    x = jnp.asarray(rng.uniform(0, 255, (scales, search, search, 3)), jnp.float32)
    template = jax.jit(functools.partial(M.template_branch, model))
    kernels = template(v, z)
    search_fn = jax.jit(lambda v, k, x: M.head(model, v, k, M.search_branch(model, v, x)))
    t_template = time_fn(lambda: template(v, z), repeats)
    t_search = time_fn(lambda: search_fn(v, kernels, x), repeats)
    summary = model_summary.summarize(spec, 127, search, scales)
    row = {
        "name": name,
        "kind": spec.kind,
        "head": spec.head,
        "channels": list(spec.channels),
        "params": summary["params"],
        "megabytes": summary["megabytes"],
        "flops_per_frame": summary["flops"],
        "search_size": search,
        "scales": scales,
        "template_ms": 1e3 * t_template["median_s"],
        "search_and_head_ms": 1e3 * t_search["median_s"],
        "network_fps": 1.0 / t_search["median_s"],
        "gflops_per_s": summary["flops"] / t_search["median_s"] / 1e9,
    }
    print(
        f"{name:<28} params {row['params']:>11,}  template {row['template_ms']:7.1f} ms  "
        f"search+head {row['search_and_head_ms']:7.1f} ms  ({row['network_fps']:6.1f} fps)"
    )
    return row


def first_conv_sweep(widths, repeats: int) -> list[dict]:
    rows = []
    x = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (1, 255, 255, 3)), jnp.float32)
    for c in widths:
        w = jnp.asarray(np.random.default_rng(1).normal(0, 0.01, (11, 11, 3, c)), jnp.float32)
        conv = jax.jit(
            lambda x, w: jax.lax.conv_general_dilated(
                x, w, (2, 2), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
        )
        t = time_fn(lambda conv=conv, w=w: conv(x, w), repeats)
        rows.append({"out_channels": c, "ms": 1e3 * t["median_s"]})
        print(f"first conv 11x11/2, {c:3d} out channels: {1e3 * t['median_s']:6.1f} ms")
    return rows


def main() -> None:
    args = arguments(__doc__).parse_args()

    fc = M.teacher_spec("siamfc")
    rpn = M.teacher_spec("siamrpn")
    rpn_dw = M.teacher_spec("siamrpn", "depthwise").replace(channels=(96, 256, 384, 384, 256))
    rows = [
        measure("siamfc_teacher", fc, 255, 3, args.repeats),
        measure("siamfc_student_quarter", quarter(fc), 255, 3, args.repeats),
        measure("siamrpn_teacher", rpn, 271, 1, args.repeats),
        measure("siamrpn_student_quarter", quarter(rpn), 271, 1, args.repeats),
        measure("siamrpn_dw_alexnet", rpn_dw, 255, 1, args.repeats),
        measure("siamrpn_dw_student_quarter", quarter(rpn_dw), 255, 1, args.repeats),
    ]
    by_name = {r["name"]: r for r in rows}
    ratios = {
        f"{kind}_student_speedup": by_name[f"{kind}_teacher"]["search_and_head_ms"]
        / by_name[f"{kind}_student_quarter"]["search_and_head_ms"]
        for kind in ("siamfc", "siamrpn")
    }
    sweep = first_conv_sweep((16, 24, 32, 48, 64, 96), args.repeats)
    path = write_json("forward", {"models": rows, "ratios": ratios, "first_conv": sweep}, args.out)
    print(f"ratios {ratios}\nwrote {path}")


if __name__ == "__main__":
    main()
