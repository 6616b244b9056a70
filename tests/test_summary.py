"""mode=summary: hand-computed sizes, FLOPs against XLA's own count, and the CLI."""

import json

import jax
import jax.numpy as jnp
import pytest

from dsiam_jax import model_summary
from dsiam_jax import models as M

# Hand-computed from the layer shapes (see SPEC section 1):
# SiamFC: convs 34,944 + 307,456 + 885,120 + 663,936 + 442,624, BN 2 x 1,120, bias 1.
SIAMFC_PARAMS = 34_944 + 307_456 + 885_120 + 663_936 + 442_624 + 2 * 1_120 + 1
# SiamRPN big: backbone convs + BN 2 x 2,752, head 47,196,160 + 23,598,080 + 2 x 2,359,808 + 420.
SIAMRPN_PARAMS = (69_888 + 2_458_112 + 3_539_712 + 5_309_184 + 3_539_456 + 2 * 2_752) + (
    47_196_160 + 23_598_080 + 2 * 2_359_808 + 420
)


def test_teacher_sizes_match_the_paper():
    fc = model_summary.summarize(M.teacher_spec("siamfc"), 127, 255, 3)
    assert fc["params"] == SIAMFC_PARAMS
    assert fc["params"] == pytest.approx(2.33e6, rel=0.005)
    assert fc["megabytes"] == pytest.approx(9.3, rel=0.005)
    rpn = model_summary.summarize(M.teacher_spec("siamrpn"), 127, 271, 1)
    assert rpn["params"] == SIAMRPN_PARAMS
    assert rpn["params"] == pytest.approx(90.4e6, rel=0.005)
    assert rpn["megabytes"] == pytest.approx(361.8, rel=0.005)


def test_siamfc_flops_hand_computed():
    """conv1 of the search branch: 123*123*96 outputs x 11*11*3 MACs, x2, x3 scales."""
    s = model_summary.summarize(M.teacher_spec("siamfc"), 127, 255, 3)
    conv1 = next(
        r for r in s["layers"] if r["name"] == "backbone/conv1" and r["branch"] == "search"
    )
    assert conv1["macs"] == 123 * 123 * 96 * 11 * 11 * 3
    xcorr = next(r for r in s["layers"] if r["name"] == "head/xcorr")
    assert xcorr["macs"] == 17 * 17 * 6 * 6 * 256
    assert s["flops"] == 3 * s["flops_per_search"]


@pytest.mark.parametrize("head", ["xcorr", "upchannel", "depthwise"])
def test_flops_agree_with_xla_cost_analysis(head):
    """XLA counts every op (also BN/ReLU), so its number is a little higher."""
    kind = "siamfc" if head == "xcorr" else "siamrpn"
    spec = M.ModelSpec(
        kind=kind,
        head=head,
        channels=(16, 32, 48, 48, 32),
        groups=(1, 2, 1, 2, 2) if kind == "siamfc" else (1,) * 5,
        final_bn=kind == "siamrpn",
    )
    # conv1 as one conv: the space-to-depth lowering adds zero-weight taps (12x12 for 11x11).
    model = M.build(spec, "vmap", lowering=M.Lowering.for_backend(conv1_s2d="off"))
    v = M.init_variables(model, jax.random.PRNGKey(0))
    kernels = M.template_branch(model, v, jnp.zeros((1, 127, 127, 3)))
    fn = jax.jit(lambda v, k, x: M.head(model, v, k, M.search_branch(model, v, x)))
    cost = fn.lower(v, kernels, jnp.zeros((1, 255, 255, 3))).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    ours = model_summary.summarize(spec, 127, 255, 1)["flops"]
    assert 1.0 <= cost["flops"] / ours < 1.03


def test_summary_cli_writes_json(cli, tmp_path):
    proc = cli(
        "--config=configs/siamrpn_alexnet.py", "--config.mode=summary", f"--workdir={tmp_path}"
    )
    assert "361.74 MB" in proc.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["params"] == SIAMRPN_PARAMS
    assert summary["megabytes"] == pytest.approx(361.8, rel=0.005)
    assert summary["flops"] > 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["mode"] == "summary" and config["model"]["kind"] == "siamrpn"


def test_summary_cli_student_channels(cli, tmp_path):
    cli(
        "--config=configs/siamfc_alexnet.py",
        "--config.mode=summary",
        "--config.model.channels=(24,64,96,96,64)",
        f"--workdir={tmp_path}",
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["channels"] == [24, 64, 96, 96, 64]
    assert summary["params"] < SIAMFC_PARAMS / 10


def test_misspelt_override_fails_naming_the_field(cli, tmp_path):
    proc = cli(
        "--config=configs/siamfc_alexnet.py",
        "--config.modle.channels=(8,8,8,8,8)",
        f"--workdir={tmp_path}",
        check=False,
    )
    assert proc.returncode == 2
    assert "modle" in proc.stderr and 'Did you mean "mode"' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_channels_fail_cleanly(cli, tmp_path):
    proc = cli(
        "--config=configs/siamfc_alexnet.py",
        "--config.mode=summary",
        "--config.model.channels=(24,63,96,96,64)",
        f"--workdir={tmp_path}",
        check=False,
    )
    assert proc.returncode == 2
    assert "model.groups[1]" in proc.stderr and "Traceback" not in proc.stderr
