"""Config sections as frozen dataclasses (no ml_collections needed to build them).

The dataclass is the one home of a section's defaults: `configs/default.py` builds
the section from `dataclass_defaults(cls)` (tests/test_config_defaults.py keeps
every dataclass field and its config field equal), and a job turns the section back
into the dataclass with `dataclass_from_section`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dsiam_jax.errors import ConfigError


def dataclass_from_section(cls, section: Mapping[str, Any] | None, prefix: str):
    """Builds dataclass `cls` from the fields of a config section that it knows.

    Other keys are ignored, lists become tuples (hashable, jit-static), and a value
    `cls` rejects (`TypeError` / `ValueError`) becomes a `ConfigError` naming `prefix`.
    """
    section = dict(section or {})
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in section:
            value = section[f.name]
            kwargs[f.name] = tuple(value) if isinstance(value, list | tuple) else value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{prefix}: {e}") from e


def dataclass_defaults(cls) -> dict[str, Any]:
    """`{field: default}` of dataclass `cls` (every field must have a default)."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default")
    return out
