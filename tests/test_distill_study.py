"""The distillation study's scripts in a tiny form, so they do not rot.

`configs/distill_study.py:tiny` runs as a mode=ablation sweep from the CLI (tiny
networks, toy training pairs, 2 short test scenes), then the study's analysis and
map inspection read what it wrote.
"""

import json

import numpy as np
import pytest
from conftest import run_cli

from studies.distillation import analyze, inspect_maps, plot_losses


@pytest.fixture(scope="module")
def tiny_study(fast_subprocesses, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    run_cli(
        "--config=configs/distill_study.py:tiny",
        f"--workdir={workdir}",
        "--config.train.input=toy",
        "--config.data.synthetic.num_sequences=8",
    )
    return workdir


def test_tiny_study_runs_and_analyses(tiny_study, tmp_path):
    result = analyze.analyze(str(tiny_study), str(tmp_path))
    rows = result["rows"]
    assert set(rows) == {"scratch", "spatial_t2"}
    for steps in rows.values():
        assert sorted(steps) == [2, 4]  # the curve point (ablation.eval_steps) and the end
        for step in (2, 4):
            (entry,) = steps[step].values()  # one seed
            assert 0.0 <= entry["auc"] <= 1.0 and len(entry["sequences"]) == 2
    # one paired comparison per evaluated step (the curve point and the end)
    assert [c["step"] for c in result["comparisons"]] == [2, 4]
    comparison = result["comparisons"][-1]
    assert comparison["a"] == "spatial_t2" and comparison["num_sequences"] == 2
    # the paired difference is the mean of the per-sequence differences
    a = rows["spatial_t2"][4][0]["sequences"]
    b = rows["scratch"][4][0]["sequences"]
    assert comparison["diff"] == pytest.approx(np.mean([a[q] - b[q] for q in a]))
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert "spatial_t2 - scratch" in (tmp_path / "comparisons.md").read_text()
    # the distillation run shared the sweep's teacher-output cache
    assert any((tiny_study / "teacher_cache").rglob("*.npz"))


def test_loss_curves_plot(tiny_study, tmp_path):
    rows = plot_losses.read_metrics(tiny_study / "spatial_t2_seed0")
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows) and rows
    assert "student_0/soft" in rows[-1]
    out = tmp_path / "losses.png"
    plot_losses.main(
        [f"--sweep={tiny_study}", "--runs=scratch_seed0,spatial_t2_seed0", f"--out={out}"]
    )
    assert out.stat().st_size > 1000


def test_map_statistics_by_hand():
    # 1 pair, 2x2 map: one positive cell (logit 2), three negatives (logits 0, -2, -4).
    logits = np.asarray([[[2.0, 0.0], [-2.0, -4.0]]])
    pos = np.asarray([[[1.0, 0.0], [0.0, 0.0]]])
    stats = inspect_maps.map_statistics(logits, pos)
    assert stats["peak_on_label"] == 1.0
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    t1 = stats["temperatures"]["1.0"]
    assert t1["mass_on_label"] == pytest.approx(sig(2.0))
    assert t1["mass_off_label"] == pytest.approx(sig(0.0) + sig(-2.0) + sig(-4.0))
    # rho 0.3 suppresses the negatives with sigmoid < 0.3 (logits -2 and -4): 2 of 3;
    # rho 0.1 only logit -4 (sigmoid(-2) = 0.12)
    assert t1["rho"]["0.1"]["negatives_suppressed"] == pytest.approx(1 / 3)
    r = t1["rho"]["0.3"]
    assert r["negatives_suppressed"] == pytest.approx(2 / 3)
    want = (sig(-2.0) + sig(-4.0)) / (sig(0.0) + sig(-2.0) + sig(-4.0))
    assert r["off_label_mass_suppressed"] == pytest.approx(want)
    json.dumps(stats)  # serialisable
