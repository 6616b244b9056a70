"""Resuming a workdir whose saved config predates a field (dsiam_jax.workdir.check_resume)."""

import json

import pytest

from configs import default
from dsiam_jax import workdir as W


def saved_run(tmp_path, config, drop: str | None = None):
    """A workdir with `config` saved (without the dotted field `drop`) and a checkpoint."""
    saved = W.config_as_json(config)
    if drop:
        *parents, leaf = drop.split(".")
        section = saved
        for name in parents:
            section = section[name]
        del section[leaf]
    (tmp_path / W.CONFIG_FILE).write_text(json.dumps(saved))
    (tmp_path / "checkpoints" / "200").mkdir(parents=True)
    return tmp_path


def test_a_run_before_the_graph_pipeline_resumes_on_the_python_path(tmp_path):
    config = default.get_config()
    config.mode = "train"
    assert config.data.pipeline == "auto"
    W.check_resume(config, saved_run(tmp_path, config, drop="data.pipeline"))
    assert config.data.pipeline == "python"  # what the saved run read its frames with


def test_a_run_before_reg_init_scale_resumes_with_the_he_normal_reg_conv(tmp_path):
    # Its checkpoints restore the weights; anything it has yet to initialise starts as
    # the run would have.
    config = default.get_config()
    config.mode = "train"
    assert config.model.reg_init_scale == 0.1
    W.check_resume(config, saved_run(tmp_path, config, drop="model.reg_init_scale"))
    assert config.model.reg_init_scale == 1.0


def test_a_run_before_the_negative_pair_window_resumes_with_the_whole_map_rule(tmp_path):
    config = default.get_config()
    config.mode = "train"
    assert config.loss.rpn_neg_pair_radius == 3
    W.check_resume(config, saved_run(tmp_path, config, drop="loss.rpn_neg_pair_radius"))
    assert config.loss.rpn_neg_pair_radius == -1  # its negative pairs sampled the whole map


def test_a_changed_field_is_still_refused(tmp_path):
    config = default.get_config()
    config.mode = "train"
    workdir = saved_run(tmp_path, config, drop="data.pipeline")
    config.data.negative_prob = 0.5
    with pytest.raises(W.IncompatibleConfigError, match="data.negative_prob"):
        W.check_resume(config, workdir)


@pytest.mark.parametrize("field", ["teacher_lr_end", "student_lr_end"])
def test_a_pipeline_before_its_own_learning_rate_ends_resumes_with_train_lr_end(tmp_path, field):
    config = default.get_config()
    assert config.mode == "pipeline"
    W.check_resume(config, saved_run(tmp_path, config, drop=f"pipeline.laptop.{field}"))
    assert config.pipeline.laptop[field] == 1e-5  # the saved run's rate ended at 1e-5


def test_a_pipeline_run_with_train_lr_end_overridden_resumes_with_that_end(tmp_path):
    # A run made before pipeline.laptop.teacher_lr_end with --config.train.lr_end=1e-3:
    # its teacher decayed to 1e-3, so that is what the resumed run must use.
    config = default.get_config()
    config.train.lr_end = 1e-3
    workdir = saved_run(tmp_path, config, drop="pipeline.laptop.teacher_lr_end")
    config.pipeline.laptop.teacher_lr_end = 0.5  # a default the saved run never saw
    W.check_resume(config, workdir)
    assert config.pipeline.laptop.teacher_lr_end == 1e-3
