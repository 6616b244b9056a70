"""Config sections as frozen dataclasses (no ml_collections needed to build them)."""

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
