"""Orbax checkpoints that describe themselves.

Layout: `WORKDIR/checkpoints/<step>/` with three items:
- `models`: `{name: {'params': ..., 'batch_stats': ...}}`, the trackable networks
  (a run with `train.ema_decay` saves each model's moving average under its name and
  its raw weights as `<name>_raw` with role 'raw': `RAW_SUFFIX`, `RAW_ROLE`),
- `meta`: JSON `{'format', 'step', 'models': {name: {'role', 'spec', ...}}, ...}`:
  the tracker kind and channel lists (a `ModelSpec` per model), so loading never
  needs the config that trained them,
- `train_state` (optional): whatever else training needs to resume exactly
  (optimiser state, ...), restored against a target tree by the trainer.

`load_models(path)` accepts a workdir, its `checkpoints/` folder, one step folder,
or the name of a model in the zoo (`zoo/<name>/`).

Faults: a step whose files are missing, truncated or not what they should be raises
`CheckpointDamagedError` naming the step (one line, no orbax traceback);
`restore_newest_intact` resumes from the newest step that restores, setting damaged
newer steps aside (`WORKDIR/checkpoints_damaged/`) with a warning. A save that fails
for lack of space or permission removes its partial `*.orbax-checkpoint-tmp*` folder
and raises `CheckpointWriteError`.
"""

from __future__ import annotations

import contextlib
import gc
import logging as std_logging
import os
import pathlib
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError, InputFileError, UserError
from dsiam_jax.models.spec import ModelSpec, SpecError, TrackerModel
from dsiam_jax.workdir import storage_failure

FORMAT = "dsiam_jax.checkpoint/1"
# A training run with a moving average (train.ema_decay) also saves each model's raw
# weights, which it resumes from, as `<name>_raw` with this role; they track like any
# model (to compare with the average) but are not published.
RAW_SUFFIX = "_raw"
RAW_ROLE = "raw"
ZOO_DIR = pathlib.Path(__file__).resolve().parent.parent / "zoo"
DAMAGED_DIR = "checkpoints_damaged"  # WORKDIR/checkpoints_damaged/<step>: set aside
T = TypeVar("T")


class CheckpointError(InputFileError):
    """A checkpoint path that does not exist or is not a dsiam_jax checkpoint."""


class CheckpointDamagedError(CheckpointError):
    """A checkpoint step whose files are missing or unreadable (names the step)."""

    def __init__(self, path: pathlib.Path, reason: str):
        self.path, self.reason = path, " ".join(reason.split())
        super().__init__(f"checkpoint {path} is damaged: {self.reason}")


class CheckpointWriteError(UserError, OSError):
    """A checkpoint that could not be written (full disk, no permission)."""


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:400]


class _OrbaxErrorsCaptured(std_logging.Filter):
    """Holds back the ERROR records (with tracebacks) of orbax's threads and of the
    asyncio tasks they leave behind while an operation runs."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[std_logging.Logger, std_logging.LogRecord]] = []

    def filter(self, record: std_logging.LogRecord) -> bool:
        if record.levelno >= std_logging.ERROR and (
            "/orbax/" in record.pathname or record.name == "asyncio"
        ):
            self.records.append((std_logging.getLogger(record.name), record))
            return False
        return True


def _is_late_read_callback(unraisable) -> bool:
    """TensorStore reads still in flight when a failed orbax read closes its event loop
    complete into the closed loop ('Event loop is closed', reported as unraisable)."""
    tb = unraisable.exc_traceback
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return (
        unraisable.exc_type is RuntimeError
        and str(unraisable.exc_value) == "Event loop is closed"
        and tb is not None
        and tb.tb_frame.f_code.co_filename.endswith(os.path.join("asyncio", "base_events.py"))
    )


def _drop_late_read_callbacks() -> None:
    """Installs (once) an unraisable-exception hook that drops `_is_late_read_callback`
    reports, which would print tracebacks after a damaged checkpoint was reported."""
    previous = sys.unraisablehook
    if getattr(previous, "_drops_late_read_callbacks", False):
        return

    def hook(unraisable) -> None:
        if not _is_late_read_callback(unraisable):
            previous(unraisable)

    hook._drops_late_read_callbacks = True
    sys.unraisablehook = hook


@contextlib.contextmanager
def _orbax_errors_held() -> Iterator[None]:
    """Orbax logs the failure of its writer/reader threads with a traceback before it
    re-raises; the caller reports the failure in one line instead, so those records are
    dropped when the block fails and logged as they were when it succeeds."""
    _drop_late_read_callbacks()
    loggers = [std_logging.getLogger(name) for name in ("absl", "asyncio")]
    captured = _OrbaxErrorsCaptured()
    for logger in loggers:
        logger.addFilter(captured)
    try:
        yield
    except BaseException:
        captured.records.clear()
        raise
    finally:
        for logger in loggers:
            logger.removeFilter(captured)
    for logger, record in captured.records:
        logger.handle(record)


def _join_new_orbax_threads(before: set[threading.Thread], timeout: float = 300.0) -> None:
    """Waits for the orbax threads started since `before` (a failed save's writers, which
    go on after the first error) so that its temporary folder can be removed for good."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread not in before and type(thread).__module__.startswith("orbax"):
            thread.join(max(0.0, deadline - time.monotonic()))


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
        threads = set(threading.enumerate())
        try:
            with _orbax_errors_held():
                try:
                    self.manager.save(int(step), args=ocp.args.Composite(**items), force=True)
                    self.manager.wait_until_finished()
                except Exception:
                    _join_new_orbax_threads(threads)
                    gc.collect()  # tasks they left report (held back) now, not at exit
                    raise
        except Exception as e:
            self._remove_partial(int(step))
            reason = storage_failure(e)
            if reason is None:
                raise
            raise CheckpointWriteError(
                f"cannot write checkpoint {int(step)} in {self.directory}: {reason}"
            ) from None

    def _remove_partial(self, step: int) -> None:
        """Removes the temporary folders a failed save of `step` left."""
        if parallel.is_main_process():
            for tmp in self.directory.glob(f"{step}.orbax-checkpoint-tmp*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def all_steps(self) -> list[int]:
        """Every step on disk, oldest first."""
        return sorted(int(s) for s in self.manager.all_steps())

    def restore_meta(self, step: int | None = None) -> dict[str, Any]:
        """The `meta` item of a step (raises `CheckpointDamagedError` when unreadable)."""
        step = self._step(step)
        meta = self._read_item(step, "meta", ocp.args.JsonRestore())
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointDamagedError(self.step_dir(step), f"meta is not a {FORMAT} record")
        return meta

    def restore(self, step: int | None, models_target: Any, train_state_target: Any = None):
        """Restores `(models, train_state)` onto target trees (shapes, dtypes, shardings).

        Raises `CheckpointDamagedError` when the step's files cannot be read; a target
        that does not fit intact files keeps orbax's error.
        """
        step = self._step(step)
        items = {"models": ocp.args.StandardRestore(models_target)}
        if train_state_target is not None:
            items["train_state"] = ocp.args.StandardRestore(train_state_target)
        try:
            with _orbax_errors_held():
                out = self.manager.restore(step, args=ocp.args.Composite(**items))
        except Exception as e:
            damage = self.damage(step, tuple(items))
            if damage is not None:
                raise CheckpointDamagedError(self.step_dir(step), damage) from e
            raise
        return out["models"], out.get("train_state") if train_state_target is not None else None

    def damage(self, step: int, items: tuple[str, ...] = ("models", "train_state")) -> str | None:
        """What is wrong with the files of `step` (None: they read back): the meta, then
        each item read in full without a target (onto one device when the checkpoint was
        written on another topology)."""
        try:
            self.restore_meta(step)
        except CheckpointDamagedError as e:
            return e.reason
        one_device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        try:
            raw = ocp.args.StandardRestore(fallback_sharding=one_device)
        except TypeError:  # an orbax without fallback_sharding
            raw = ocp.args.StandardRestore()
        for item in items:
            if item == "train_state" and not (self.step_dir(step) / item).exists():
                continue
            try:
                self._read_item(step, item, raw)
            except CheckpointDamagedError as e:
                return e.reason
        return None

    def _read_item(self, step: int, item: str, args: Any) -> Any:
        """One item of `step` read with orbax `args`; any failure is a
        `CheckpointDamagedError` whose reason names the item."""
        try:
            with _orbax_errors_held():
                return self.manager.restore(step, args=ocp.args.Composite(**{item: args}))[item]
        except Exception as e:
            raise CheckpointDamagedError(self.step_dir(step), f"{item}: {_one_line(e)}") from e

    def restore_models(self, step: int | None = None) -> dict[str, TrackerModel]:
        """All models of a checkpoint, as host NumPy arrays, with their specs."""
        step = self._step(step)
        meta = self.restore_meta(step)
        restored = self._read_item(step, "models", ocp.args.StandardRestore())
        models = {}
        try:
            for name, m in meta["models"].items():
                variables = jax.tree_util.tree_map(np.asarray, restored[name])
                models[name] = TrackerModel(
                    name=name,
                    spec=ModelSpec.from_dict(m["spec"]),
                    variables=dict(variables),
                    role=m.get("role", "model"),
                    info={**m.get("info", {}), "step": step, "path": str(self.directory)},
                )
        except (SpecError, KeyError, TypeError, AttributeError) as e:
            raise CheckpointDamagedError(
                self.step_dir(step), f"meta does not match the models: {_one_line(e)}"
            ) from e
        return models

    def set_aside(self, step: int) -> pathlib.Path:
        """Moves a damaged step to `WORKDIR/checkpoints_damaged/<step>[.n]`; returns it."""
        target = self.directory.parent / DAMAGED_DIR / str(step)
        n = 0
        while target.exists():
            n += 1
            target = target.with_name(f"{step}.{n}")
        if parallel.is_main_process():
            target.parent.mkdir(parents=True, exist_ok=True)
            self.step_dir(step).rename(target)
        self.manager.reload()
        return target

    def step_dir(self, step: int) -> pathlib.Path:
        return self.directory / str(int(step))

    def close(self) -> None:
        self.manager.close()

    def _step(self, step: int | None) -> int:
        if step is None:
            step = self.latest_step()
        if step is None:
            raise CheckpointError(f"no checkpoint found in {self.directory}")
        return int(step)


def restore_newest_intact(
    store: CheckpointStore, restore_step: Callable[[int], T]
) -> tuple[int, T] | None:
    """`(step, restore_step(step))` for the newest step that restores, None without any.

    A step for which `restore_step` raises `CheckpointDamagedError` is skipped with a
    warning naming it; once an older step restores, the damaged newer ones are set
    aside (`CheckpointStore.set_aside`) so training can write those steps again. When
    no step restores, nothing is moved and a `CheckpointError` lists them all.
    """
    damaged: list[CheckpointDamagedError] = []
    for step in reversed(store.all_steps()):
        try:
            result = restore_step(step)
        except CheckpointDamagedError as e:
            logging.warning("%s; trying the previous checkpoint", e)
            damaged.append(e)
            continue
        for e in damaged:
            moved = store.set_aside(int(e.path.name))
            logging.warning(
                "checkpoint %s is damaged (%s): moved to %s; resuming from step %d instead",
                e.path,
                e.reason,
                moved,
                step,
            )
        return step, result
    if damaged:
        listed = "; ".join(f"step {e.path.name}: {e.reason}" for e in damaged)
        raise CheckpointError(
            f"no intact checkpoint in {store.directory} ({listed}): move them away to "
            "start over, or use another --workdir"
        )
    return None


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


def pick_model(
    models: Mapping[str, TrackerModel], name: str, source: str, how_to_pick: str
) -> TrackerModel:
    """One of a checkpoint's models: `name`, else the only one, else the one with role
    teacher; a `ConfigError` names `source` and, when several fit, `how_to_pick`."""
    if name:
        if name not in models:
            raise ConfigError(f"no model {name!r} in {source} (models: {sorted(models)})")
        return models[name]
    if len(models) == 1:
        return next(iter(models.values()))
    teachers = [m for m in models.values() if m.role == "teacher"]
    if len(teachers) == 1:
        return teachers[0]
    raise ConfigError(f"{source} holds several models {sorted(models)}: pick one {how_to_pick}")


def load_models(path: str | os.PathLike) -> dict[str, TrackerModel]:
    """The models saved under `path` (workdir, checkpoints dir, step dir or zoo name)."""
    workdir, step = resolve_checkpoint_dir(path)
    store = CheckpointStore.__new__(CheckpointStore)
    store.directory = workdir / "checkpoints"
    store.manager = _manager(store.directory, None, create=False)
    try:
        return store.restore_models(step)
    except CheckpointDamagedError as e:
        older = [s for s in store.all_steps() if s < int(e.path.name)]
        hint = f"; an older step may be intact: {store.step_dir(older[-1])}" if older else ""
        raise CheckpointDamagedError(e.path, e.reason + hint) from None
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
