"""Orbax checkpoints that describe themselves.

Layout: `WORKDIR/checkpoints/<step>/` with three items:
- `models`: `{name: {'params': ..., 'batch_stats': ...}}`, the trackable networks,
- `meta`: JSON `{'format', 'step', 'models': {name: {'role', 'spec', ...}}, ...}`:
  the tracker kind and channel lists (a `ModelSpec` per model), so loading never
  needs the config that trained them,
- `train_state` (optional): whatever else training needs to resume exactly
  (optimiser state, ...), restored against a target tree by the trainer.

`load_models(path)` accepts a workdir, its `checkpoints/` folder, one step folder,
or the name of a model in the zoo (`zoo/<name>/`).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from dsiam_jax.errors import InputFileError
from dsiam_jax.models.spec import ModelSpec

FORMAT = "dsiam_jax.checkpoint/1"
ZOO_DIR = pathlib.Path(__file__).resolve().parent.parent / "zoo"


class CheckpointError(InputFileError):
    """A checkpoint path that does not exist or is not a dsiam_jax checkpoint."""


@dataclasses.dataclass
class TrackerModel:
    """A network ready to track: its name, role, architecture and variables."""

    name: str
    spec: ModelSpec
    variables: dict[str, Any]
    role: str = "model"  # 'teacher' | 'student' | 'model'
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"role": self.role, "spec": self.spec.to_dict(), "info": self.info}


def _manager(directory: pathlib.Path, max_to_keep: int | None, create: bool):
    options = ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, create=create, enable_async_checkpointing=False
    )
    return ocp.CheckpointManager(
        directory.resolve(), item_names=("models", "meta", "train_state"), options=options
    )


class CheckpointStore:
    """Saves and restores the checkpoints of one workdir (absolute paths, orbax)."""

    def __init__(self, workdir: str | os.PathLike, max_to_keep: int | None = 3):
        self.directory = pathlib.Path(workdir).resolve() / "checkpoints"
        self.manager = _manager(self.directory, max_to_keep, create=True)

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(
        self,
        step: int,
        models: Mapping[str, TrackerModel],
        train_state: Any = None,
        extra_meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Writes models, their description and (optionally) the train state at `step`."""
        meta = {
            "format": FORMAT,
            "step": int(step),
            "models": {name: m.meta() for name, m in models.items()},
            **(extra_meta or {}),
        }
        items = {
            "models": ocp.args.StandardSave({n: m.variables for n, m in models.items()}),
            "meta": ocp.args.JsonSave(meta),
        }
        if train_state is not None:
            items["train_state"] = ocp.args.StandardSave(train_state)
        self.manager.save(int(step), args=ocp.args.Composite(**items), force=True)
        self.manager.wait_until_finished()

    def restore_meta(self, step: int | None = None) -> dict[str, Any]:
        step = self._step(step)
        return self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))[
            "meta"
        ]

    def restore(self, step: int | None, models_target: Any, train_state_target: Any = None):
        """Restores `(models, train_state)` onto target trees (shapes, dtypes, shardings)."""
        step = self._step(step)
        items = {"models": ocp.args.StandardRestore(models_target)}
        if train_state_target is not None:
            items["train_state"] = ocp.args.StandardRestore(train_state_target)
        out = self.manager.restore(step, args=ocp.args.Composite(**items))
        return out["models"], out.get("train_state") if train_state_target is not None else None

    def restore_models(self, step: int | None = None) -> dict[str, TrackerModel]:
        """All models of a checkpoint, as host NumPy arrays, with their specs."""
        step = self._step(step)
        meta = self.restore_meta(step)
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{self.directory / str(step)} is not a {FORMAT} checkpoint")
        restored = self.manager.restore(
            step, args=ocp.args.Composite(models=ocp.args.StandardRestore())
        )["models"]
        models = {}
        for name, m in meta["models"].items():
            variables = jax.tree_util.tree_map(np.asarray, restored[name])
            models[name] = TrackerModel(
                name=name,
                spec=ModelSpec.from_dict(m["spec"]),
                variables=dict(variables),
                role=m.get("role", "model"),
                info={**m.get("info", {}), "step": step, "path": str(self.directory)},
            )
        return models

    def close(self) -> None:
        self.manager.close()

    def _step(self, step: int | None) -> int:
        if step is None:
            step = self.latest_step()
        if step is None:
            raise CheckpointError(f"no checkpoint found in {self.directory}")
        return int(step)


def zoo_models() -> list[str]:
    """Names of the models in the zoo (its folders; `zoo/` also holds docs and plots)."""
    return sorted(d.name for d in ZOO_DIR.iterdir() if d.is_dir()) if ZOO_DIR.is_dir() else []


def resolve_checkpoint_dir(path: str | os.PathLike) -> tuple[pathlib.Path, int | None]:
    """(workdir, step) for a workdir, a `checkpoints/` folder, a step folder or a zoo name."""
    p = pathlib.Path(os.path.expanduser(str(path)))
    if not p.exists() and not p.is_absolute() and str(path) in zoo_models():
        p = ZOO_DIR / str(path)
    if not p.exists():
        zoo = zoo_models()
        raise CheckpointError(
            f"checkpoint {str(path)!r} not found: not a folder and not a zoo model "
            f"(zoo models: {', '.join(zoo) or 'none'})"
        )
    p = p.resolve()
    if p.name.isdigit() and p.parent.name == "checkpoints":
        return p.parent.parent, int(p.name)
    if p.name == "checkpoints":
        return p.parent, None
    if (p / "checkpoints").is_dir():
        return p, None
    raise CheckpointError(f"{p} holds no checkpoints/ folder: not a dsiam_jax workdir")


def load_models(path: str | os.PathLike) -> dict[str, TrackerModel]:
    """The models saved under `path` (workdir, checkpoints dir, step dir or zoo name)."""
    workdir, step = resolve_checkpoint_dir(path)
    store = CheckpointStore.__new__(CheckpointStore)
    store.directory = workdir / "checkpoints"
    store.manager = _manager(store.directory, None, create=False)
    try:
        return store.restore_models(step)
    finally:
        store.close()


def load_many(paths: str) -> dict[str, TrackerModel]:
    """Models of several comma-separated checkpoints; names prefixed when they clash."""
    out: dict[str, TrackerModel] = {}
    for path in [p.strip() for p in str(paths).split(",") if p.strip()]:
        for name, model in load_models(path).items():
            key = name
            if key in out:
                key = f"{pathlib.Path(path).name}/{name}"
            model.name = key
            out[key] = model
    if not out:
        raise CheckpointError("config.checkpoint is empty: name a workdir or a zoo model")
    return out
