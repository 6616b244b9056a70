"""One source of defaults: every settings dataclass field is a config field with its default.

configs/default.py builds its `loss` and `tracker.siamfc` / `tracker.siamrpn` sections
from their dataclasses (they must match field for field, both ways) and adds the
dataclass fields of `distill` and `train` to fields of their own (listed here for
`distill`). `data` (+ `data.augment`) is written out; `data_pipelines.sampling.PairConfig`
must hold its defaults. Every dataclass field must be in the config with its default.
"""

import dataclasses

import pytest

from configs import default
from data_pipelines.sampling import PairConfig
from dsiam_jax.tracking.siamfc import SiamFCConfig
from dsiam_jax.tracking.siamrpn import SiamRPNConfig
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

# (dataclass, section of get_config(), config-only fields: None = the section is the
# dataclass exactly)
SECTIONS = [
    (LossSettings, "loss", None),
    (SiamFCConfig, "tracker.siamfc", None),
    (SiamRPNConfig, "tracker.siamrpn", None),
    (
        DistillSettings,
        "distill",
        {"students", "student_head_channels", "students_from", "teacher_cache"},
    ),
]


def section(config, dotted: str) -> dict:
    node = config
    for part in dotted.split("."):
        node = node[part]
    return dict(node)


def same(a, b) -> bool:
    """Equal values of the same kind (a bool is not a number here)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def mismatches(cls, values: dict) -> list[str]:
    """'field: dataclass default != config value' for every field that differs or is missing."""
    out = []
    for f in dataclasses.fields(cls):
        default_value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if f.name not in values:
            out.append(f"{f.name}: missing from the config")
        elif not same(default_value, values[f.name]):
            out.append(f"{f.name}: {default_value!r} != {values[f.name]!r}")
    return out


@pytest.mark.parametrize("cls,path,own", SECTIONS, ids=[s[1] for s in SECTIONS])
def test_every_dataclass_field_is_a_config_field_with_its_default(cls, path, own):
    values = section(default.get_config(), path)
    assert mismatches(cls, values) == []
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(values) - fields == (own or set())


def test_optimiser_fields_of_the_train_section():
    values = section(default.get_config(), "train")
    assert mismatches(OptimSettings, values) == []


def test_pair_fields_of_the_data_section():
    data = default.get_config().data
    values = {**dict(data), **dict(data.augment)}
    assert mismatches(PairConfig, values) == []


def test_the_check_sees_a_missing_field_a_changed_default_and_a_bool_for_a_number():
    values = section(default.get_config(), "loss")
    del values["rpn_max_pos"]
    values["rpn_pos_iou"] = 0.7
    values["rpn_cls_balanced"] = 1  # a number where a bool belongs
    assert mismatches(LossSettings, values) == [
        "rpn_pos_iou: 0.6 != 0.7",
        "rpn_max_pos: missing from the config",
        "rpn_cls_balanced: True != 1",
    ]
