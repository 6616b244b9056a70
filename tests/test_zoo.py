"""The published models in `zoo/`: loadable by name, slim, documented, and they track."""

import dataclasses

import numpy as np
import pytest

from data_pipelines.synthetic import make_sequences
from dsiam_jax import checkpoints as C
from dsiam_jax.evaluation import metrics as metrics_lib
from dsiam_jax.models import numpy_variables
from dsiam_jax.tracking import build_tracker
from dsiam_jax.tracking.runner import run_sequence

ZOO = C.ZOO_DIR
NAMES = C.zoo_models()


def test_zoo_has_the_published_set():
    assert {
        "siamfc_teacher",
        "siamfc_student_0",
        "siamfc_student_1",
        "siamrpn_teacher",
        "siamrpn_student_0",
        "siamrpn_student_1",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_model_loads_by_name_alone(name):
    models = C.load_models(name)  # a zoo name, not a path
    assert list(models) == [name]
    model = models[name]
    assert model.role == ("teacher" if "_teacher" in name else "student")
    assert name.startswith(model.spec.kind + "_")
    assert not any((ZOO / name / "checkpoints").glob("*/train_state"))  # no optimiser state


def test_zoo_is_small_and_documented():
    size = sum(f.stat().st_size for f in ZOO.rglob("*") if f.is_file())
    # two teachers (9.35 + 25.0 MB) and four students (0.61 and 1.27 MB each), plus plots
    assert size < 40e6, f"zoo/ holds {size / 1e6:.1f} MB"
    readme = (ZOO / "README.md").read_text()
    for name in NAMES:
        assert f"| {name} |" in readme, f"zoo/README.md has no table row for {name}"


@pytest.mark.parametrize("name", ["siamfc_student_0", "siamrpn_student_0"])
def test_zoo_student_tracks_better_than_its_untrained_architecture(name):
    """On 4 synthetic test scenes (never trained on), the published weights beat random
    weights of the same architecture by > 0.2 mean IoU (measured: SiamFC 0.73 vs
    0.25, SiamRPN 0.48 vs 0.13)."""
    model = C.load_models(name)[name]
    sequences = make_sequences("test", num_sequences=4, sequence_length=40)

    def mean_iou(variables) -> float:
        tracker = build_tracker(dataclasses.replace(model, variables=variables))
        return float(
            np.mean(
                [
                    metrics_lib.rect_iou(run_sequence(tracker, s).boxes, s.boxes)[1:].mean()
                    for s in sequences
                ]
            )
        )

    trained, untrained = mean_iou(model.variables), mean_iou(numpy_variables(model.spec, 0))
    assert trained > untrained + 0.2, (trained, untrained)


def test_unknown_zoo_name_lists_the_zoo_models():
    with pytest.raises(C.CheckpointError, match="zoo models: siamfc_student_0") as e:
        C.load_models("siamfc_studnet_0")
    assert "README.md" not in str(e.value) and "build.sh" not in str(e.value)
