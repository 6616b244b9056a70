"""studies/distillation/compare_pipelines.py on two hand-made pipeline workdirs."""

import json

import numpy as np

from studies.distillation import compare_pipelines

SEQS = ("s1", "s2", "s3")


def fake_run(root, name, aucs):
    """A pipeline workdir whose eval.json holds `aucs` {tracker: [auc per sequence]}
    and whose report.json lists those trackers."""
    workdir = root / name
    (workdir / "evaluate").mkdir(parents=True)
    trackers = {
        t: {"sequences": {s: {"success_auc": v} for s, v in zip(SEQS, values, strict=True)}}
        for t, values in aucs.items()
    }
    (workdir / "evaluate" / "eval.json").write_text(json.dumps({"trackers": trackers}))
    models = [  # report.json's rows: name, role and the tracker's mean success AUC
        {"name": t, "role": "teacher" if t == "teacher" else "student", "success_auc": np.mean(v)}
        for t, v in aucs.items()
    ]
    (workdir / "report.json").write_text(json.dumps({"models": models, "comparisons": {}}))
    return workdir


def test_pairs_by_sequence(tmp_path):
    a = {
        "teacher": [0.7, 0.6, 0.5],
        "student_0": [0.6, 0.5, 0.3],
        "student_1": [0.5, 0.6, 0.4],
        "student_scratch": [0.4, 0.4, 0.3],
    }
    b = {
        "teacher": [0.6, 0.6, 0.6],
        "student_0": [0.5, 0.5, 0.2],
        "student_1": [0.4, 0.4, 0.3],
        "student_scratch": [0.4, 0.4, 0.3],
    }
    out = tmp_path / "out"
    compare_pipelines.main(
        [f"--runs=a={fake_run(tmp_path, 'a', a)},b={fake_run(tmp_path, 'b', b)}",
         "--pairs=a:b", f"--out={out}"]
    )  # fmt: skip
    result = json.loads((out / "pipelines.json").read_text())
    students = lambda r: (np.array(r["student_0"]) + np.array(r["student_1"])) / 2  # noqa: E731
    for role, da in (
        ("teacher", np.array(a["teacher"]) - np.array(b["teacher"])),
        ("students", students(a) - students(b)),
    ):
        got = result["pairs"]["a - b"][role]
        assert np.isclose(got["diff"], da.mean())
        assert np.isclose(got["se"], da.std(ddof=1) / np.sqrt(3))
        assert got["n"] == 3
    run_a = result["runs"]["a"]
    assert np.isclose(run_a["students_mean"], students(a).mean())
    assert np.allclose(run_a["students"], [np.mean(a["student_0"]), np.mean(a["student_1"])])
    assert np.isclose(run_a["scratch"], np.mean(a["student_scratch"]))
    assert "| a - b |" in (out / "pipelines.md").read_text()
