"""The SiamRPN study's recipe comparison (`studies/siamrpn/compare.py`) on hand-made reports."""

import json

import numpy as np

from studies.siamrpn import compare


def write_eval(folder, aucs):
    folder.mkdir(parents=True)
    sequences = {f"seq{i}": {"success_auc": a, "frames": 40} for i, a in enumerate(aucs)}
    report = {"trackers": {"siamrpn_teacher": {"sequences": sequences}}}
    (folder / "eval.json").write_text(json.dumps(report))
    return str(folder)


def test_paired_difference_by_hand(tmp_path):
    aucs = {
        "A": {0: [0.2, 0.4, 0.3], 1: [0.3, 0.3, 0.3]},
        "E": {0: [0.5, 0.4, 0.6], 1: [0.4, 0.5, 0.3]},
    }
    runs = {
        v: {s: write_eval(tmp_path / f"{v}{s}", a) for s, a in seeds.items()}
        for v, seeds in aucs.items()
    }
    result = compare.compare(runs, [("E", "A")])
    assert np.isclose(result["variants"]["A"]["mean_auc"], (0.3 + 0.3) / 2)
    # per sequence, the seed-averaged difference: (0.3+0.1)/2, (0+0.2)/2, (0.3+0)/2
    per_seq = np.array([0.2, 0.1, 0.15])
    (pair,) = result["pairs"]
    assert pair["num_sequences"] == 3 and pair["seeds"] == [0, 1]
    assert np.isclose(pair["diff"], per_seq.mean())
    assert np.isclose(pair["se_sequences"], per_seq.std(ddof=1) / np.sqrt(3))
    assert pair["significant"] == bool(per_seq.mean() > 2 * per_seq.std(ddof=1) / np.sqrt(3))
    table = compare.markdown(result)
    assert "| E - A | 2 | 3 | +0.150 |" in table
