"""Self-describing checkpoints: save, load by workdir / step / folder, clear errors."""

import jax
import numpy as np
import pytest

from dsiam_jax import checkpoints as C
from dsiam_jax import models as M


@pytest.fixture
def student():
    spec = M.ModelSpec(channels=(8, 16, 16, 16, 16))
    v = M.init_variables(M.build(spec), jax.random.PRNGKey(0))
    return C.TrackerModel("student_0", spec, v, role="student")


def test_round_trip_records_spec(tmp_path, student):
    store = C.CheckpointStore(tmp_path)
    store.save(3, {"student_0": student})
    store.save(7, {"student_0": student})
    store.close()
    for path in (tmp_path, tmp_path / "checkpoints", tmp_path / "checkpoints" / "3"):
        models = C.load_models(path)
        m = models["student_0"]
        assert m.spec == student.spec and m.role == "student"
        np.testing.assert_array_equal(
            m.variables["params"]["backbone"]["conv2"]["kernel"],
            student.variables["params"]["backbone"]["conv2"]["kernel"],
        )
    assert C.load_models(tmp_path / "checkpoints" / "3")["student_0"].info["step"] == 3
    assert C.load_models(tmp_path)["student_0"].info["step"] == 7


def test_missing_checkpoint_errors_name_the_path(tmp_path):
    with pytest.raises(C.CheckpointError, match="not found"):
        C.load_models(tmp_path / "nope")
    with pytest.raises(C.CheckpointError, match="no checkpoints/ folder"):
        C.load_models(tmp_path)


def test_load_many_prefixes_clashing_names(tmp_path, student):
    for name in ("a", "b"):
        store = C.CheckpointStore(tmp_path / name)
        store.save(1, {"student_0": student})
        store.close()
    models = C.load_many(f"{tmp_path / 'a'},{tmp_path / 'b'}")
    assert sorted(models) == ["b/student_0", "student_0"]


def test_publish_writes_slim_renamed_checkpoints(tmp_path, student):
    from configs import publish as publish_config
    from dsiam_jax.errors import ConfigError
    from dsiam_jax.jobs import publish as publish_job

    source = tmp_path / "run"
    store = C.CheckpointStore(source)
    store.save(5, {"student_0": student}, train_state={"momentum": student.variables["params"]})
    store.close()
    config = publish_config.get_config()
    config.checkpoint = str(source)
    config.publish.prefix = "siamfc_"
    out = publish_job.run(config, str(tmp_path / "zoo"))
    folder = tmp_path / "zoo" / "siamfc_student_0"
    assert out == {"siamfc_student_0": str(folder)}
    model = C.load_models(folder)["siamfc_student_0"]
    assert model.spec == student.spec and model.info["step"] == 5
    assert not any((folder / "checkpoints").glob("*/train_state"))
    with pytest.raises(ConfigError, match="overwrite"):
        publish_job.run(config, str(tmp_path / "zoo"))
