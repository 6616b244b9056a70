"""benchmarks/tracking.py's summary of the zoo students: gap to the teacher, "tracks"."""

import pytest

from benchmarks.tracking import zoo_students


def _row(name, kind, role, fps, auc):
    check = {"onnx_qdq": {"reference_success_auc": auc}} if auc is not None else {}
    return {
        "name": name,
        "kind": kind,
        "role": role,
        "backend": "onnx",
        "whole_fps": fps,
        "backend_check": check,
    }


def test_zoo_students_gap_to_their_own_kinds_teacher_fastest_first():
    rows = [
        _row("fc_teacher", "siamfc", "teacher", 10.0, 0.65),
        _row("fc_s0", "siamfc", "student", 80.0, 0.61),  # gap 0.04: does not track
        _row("fc_s1", "siamfc", "student", 90.0, 0.63),  # gap 0.02
        _row("rpn_teacher", "siamrpn", "teacher", 40.0, 0.50),
        _row("rpn_s0", "siamrpn", "student", 300.0, 0.48),  # gap 0.02
        _row("rpn_s1", "siamrpn", "student", 350.0, None),  # no publish record: left out
    ]
    out = zoo_students(rows)
    assert [r["name"] for r in out] == ["rpn_s0", "fc_s1", "fc_s0"]
    assert [r["auc_gap_to_teacher"] for r in out] == pytest.approx([0.02, 0.02, 0.04])
    assert [r["tracks"] for r in out] == [True, True, False]
