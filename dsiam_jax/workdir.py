"""The workdir of a run: one run at a time, resume only with a compatible config, and
storage faults (read-only folder, full disk) reported in one line.

    with workdir.open_run(config, path):   # `jobs.run_job` does this for every mode
        job(config, path)

- **Lock.** `WORKDIR/workdir.lock` is locked (`flock`, exclusive) for the life of the
  run and holds who holds it (pid, host, mode, start time, command). A second run on
  the same workdir fails at once naming the holder. The operating system releases the
  lock when the process ends, however it ends (kill -9 included), so a stale file never
  blocks. (`flock` is reliable on local disks; on NFS it depends on the mount.)
- **Compatibility.** A workdir that holds resumable state (`checkpoints/<step>` or a
  stage's `DONE.json`, in it or one folder down) of a resumable mode (`RESUMABLE_MODES`)
  is only re-entered with a config that computes the same result: every field is
  compared with the saved `WORKDIR/config.json` except `NEUTRAL_FIELDS` (logging,
  checkpoint cadence, devices, speed-only lowerings, ...). Any other difference is an
  `IncompatibleConfigError` listing the fields, and `config.json` is left as it was.
- **Storage faults.** `storage_failure(e)` recognises a full disk, a quota, a read-only
  file system or a permission error in an exception (or its causes), so callers can
  report it as one line instead of a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import fcntl
import json
import os
import pathlib
import re
import socket
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from absl import logging

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError, UserError

if TYPE_CHECKING:  # the checkpoint code imports this module on machines without it
    import ml_collections

LOCK_FILE = "workdir.lock"
CONFIG_FILE = "config.json"
DONE_FILE = "DONE.json"  # a finished stage of a multi-job run (`dsiam_jax.jobs.stages`)

_UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._+=@-]+")


def safe_name(name: str) -> str:
    """A model, tracker or sequence name usable as one path component: every run of
    other characters than letters, digits and `._+=@-` becomes `_` ('a/b' -> 'a_b')."""
    return _UNSAFE_IN_NAMES.sub("_", str(name)).strip("._") or "unnamed"


# Modes that continue from what an earlier run left in the workdir.
RESUMABLE_MODES = ("train", "distill", "pipeline", "ablation", "student_search")

# Fields (or whole sections) that cannot change what a run computes: logging and
# checkpoint cadence, when to stop this process, device counts and equal lowerings
# (speed only), input-pipeline parallelism, the teacher-output cache (same results),
# evaluation speed and plots, start-up.
NEUTRAL_FIELDS = (
    "train.log_every",
    "train.exit_after_steps",
    "train.checkpoint_every",
    "train.max_to_keep",
    "train.num_devices",
    "data.num_parallel_calls",
    "data.num_threads",
    "data.prefetch",
    "model.xcorr_impl",
    "model.conv1_split",
    "model.conv1_s2d",
    "model.winograd",
    "model.conv_library",
    "tracker.scales_impl",
    "eval.batched",
    "eval.batch_size",
    "eval.chunk",
    "eval.batch_impl",
    "eval.network_repeats",
    "eval.plots",
    "distill.teacher_cache",
    "distributed",
    # A sweep may gain or reorder rows and seeds: every run has its own workdir, and
    # its own config check.
    "ablation.rows",
    "ablation.seeds",
    "ablation.eval_steps",
    # A search continues its policy: more iterations extend the same trajectory.
    "search.iterations",
    "search.exit_after_iterations",
    # The comparison after it may gain seeds (each seed's runs have their own folders).
    "search.compare_seeds",
)

STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)


class WorkdirError(UserError):
    """A workdir that cannot be used (not writable, in use, unreadable config.json)."""


class WorkdirBusyError(WorkdirError):
    """Another run holds the workdir's lock (the message names it)."""


class IncompatibleConfigError(WorkdirError, ConfigError):
    """Resuming a workdir with a config that changes the result (lists the fields)."""


def storage_failure(error: BaseException) -> str | None:
    """`'[Errno 28] No space left on device: PATH'` when `error`, or an exception it was
    raised from, is a storage fault (`STORAGE_ERRNOS`); None otherwise.

    Libraries that write through C++ (TensorStore) report these as text, so the
    message is also matched against the errno descriptions.
    """
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in STORAGE_ERRNOS:
            where = f": {e.filename}" if e.filename else ""
            return f"[Errno {e.errno}] {os.strerror(e.errno)}{where}"
        text = str(e)
        for number in STORAGE_ERRNOS:
            if os.strerror(number) in text:
                return " ".join(text.split())
        e = e.__cause__ or e.__context__
    return None


class WorkdirLock:
    """An exclusive `flock` on `WORKDIR/workdir.lock`, re-entrant within a process."""

    _held: dict[pathlib.Path, tuple[int, int]] = {}  # path -> (fd, depth)

    def __init__(self, path: pathlib.Path):
        self.path = path

    @classmethod
    def acquire(cls, workdir: pathlib.Path, mode: str) -> WorkdirLock:
        """Locks `workdir` or raises `WorkdirBusyError` naming the holder."""
        path = workdir / LOCK_FILE
        if path in cls._held:  # a job of this process re-entering its own workdir
            fd, depth = cls._held[path]
            cls._held[path] = (fd, depth + 1)
            return cls(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise WorkdirError(
                f"cannot write to workdir {workdir}: {storage_failure(e) or e}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = _read_holder(fd)
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise WorkdirError(f"cannot lock workdir {workdir}: {e}") from None
            raise WorkdirBusyError(
                f"workdir {workdir} is in use by another run ({holder}); wait for it to "
                "finish or use another --workdir"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "mode": mode,
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        except OSError as e:
            os.close(fd)
            raise WorkdirError(
                f"cannot write to workdir {workdir}: {storage_failure(e) or e}"
            ) from None
        cls._held[path] = (fd, 1)
        return cls(path)

    def release(self) -> None:
        """Unlocks (the outermost release of this process closes the file)."""
        fd, depth = self._held[self.path]
        if depth > 1:
            self._held[self.path] = (fd, depth - 1)
            return
        del self._held[self.path]
        os.close(fd)  # releases the flock; the file (last holder's details) stays


def _read_holder(fd: int) -> str:
    """'pid 123 on host h, mode train, started ...' from a lock file, or a plain phrase."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return (
            f"pid {info['pid']} on host {info['host']}, mode {info['mode']}, "
            f"started {info['started']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "a process whose details are not recorded"


def config_as_json(config: ml_collections.ConfigDict | Mapping[str, Any]) -> dict[str, Any]:
    """The config as `config.json` records it (tuples as lists, other objects as str)."""
    tree = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    return json.loads(json.dumps(tree, sort_keys=True, default=str))


def write_config(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
    """Writes the resolved config to `WORKDIR/config.json` (process 0 only)."""
    if parallel.is_main_process():
        text = json.dumps(config_as_json(config), indent=2, sort_keys=True)
        (workdir / CONFIG_FILE).write_text(text + "\n")


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _neutral(key: str) -> bool:
    return any(key == f or key.startswith(f + ".") for f in NEUTRAL_FIELDS)


def config_differences(
    saved: Mapping[str, Any], current: Mapping[str, Any]
) -> list[tuple[str, Any, Any]]:
    """`[(field, saved value, current value)]` of the fields that change the result.

    Both configs are `config_as_json` trees. Fields the saved config does not have
    (added to the code since) are taken as unchanged.
    """
    old, new = _flatten(saved), _flatten(current)
    return [
        (key, old[key], value)
        for key, value in sorted(new.items())
        if key in old and old[key] != value and not _neutral(key)
    ]


def resumable_state(workdir: pathlib.Path) -> list[pathlib.Path]:
    """What a resumed run would continue from: checkpoint steps and finished stages, in
    `workdir` and one folder down (sorted)."""
    found = []
    for base in (workdir, *(p for p in workdir.iterdir() if p.is_dir())):
        ckpts = base / "checkpoints"
        if ckpts.is_dir():
            found += [p for p in ckpts.iterdir() if p.name.isdigit() and p.is_dir()]
        if (base / DONE_FILE).is_file():
            found.append(base / DONE_FILE)
    return sorted(found)


@dataclasses.dataclass(frozen=True)
class SavedField:
    """A predated field's value is the saved run's value of this dotted field."""

    name: str


# Fields added after runs were saved whose default changes what an older run did: a
# resumed run that predates one continues with the value its run used (set on `config`):
# a constant, or the saved value of the field it followed before it existed.
PREDATED_VALUES = {
    "data.pipeline": "python",  # before the graph path, every layout read frames in Python
    "pipeline.laptop.student_lr_end": SavedField("train.lr_end"),  # students decayed to it
    "pipeline.laptop.teacher_lr_end": SavedField("train.lr_end"),  # the teacher decayed to it
    "model.reg_init_scale": 1.0,  # before it, the RPN reg conv started He-normal
    # before them, a negative pair sampled rpn_num_samples negatives from the whole map
    "loss.rpn_neg_pair_radius": -1,
    "loss.rpn_neg_pair_samples": 16,
}


def _set_field(config: ml_collections.ConfigDict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    section = config
    for name in parents:
        section = section[name]
    section[leaf] = value


def check_resume(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
    """Raises `IncompatibleConfigError` when `workdir` holds resumable state of a run
    whose saved config differs from `config` in a field that changes the result.

    A field the saved config predates is taken as unchanged, except those of
    `PREDATED_VALUES`, which `config` gets at the value the saved run used."""
    saved_file = workdir / CONFIG_FILE
    if not saved_file.is_file():
        return
    state = resumable_state(workdir)
    if not state:
        return
    example = state[-1].relative_to(workdir)
    try:
        saved = json.loads(saved_file.read_text())
        saved_mode = saved["mode"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise WorkdirError(
            f"{saved_file} is unreadable ({' '.join(str(e).split())}) and {workdir} holds "
            f"{example} to resume: restore the file, or use another --workdir"
        ) from None
    if saved_mode not in RESUMABLE_MODES:
        return
    current = config_as_json(config)
    if current["mode"] != saved_mode:
        raise IncompatibleConfigError(
            f"{workdir} holds a mode={saved_mode} run ({example}): use another --workdir "
            f"for mode={current['mode']}"
        )
    saved_flat = _flatten(saved)
    missing = sorted(set(_flatten(current)) - set(saved_flat))
    unchanged = [f for f in missing if f not in PREDATED_VALUES]
    for field in (f for f in missing if f in PREDATED_VALUES):
        value = PREDATED_VALUES[field]
        if isinstance(value, SavedField):
            if value.name not in saved_flat:  # nothing known of what the run used
                unchanged.append(field)
                continue
            value = saved_flat[value.name]
        logging.warning("%s predates %s: resuming with the value its run used, %r",
                        saved_file, field, value)  # fmt: skip
        _set_field(config, field, value)
    if unchanged:
        logging.warning(
            "%s predates the fields %s: taken as unchanged", saved_file, sorted(unchanged)
        )
    diffs = config_differences(saved, current)
    if diffs:
        shown = ", ".join(f"{k} ({old!r} -> {new!r})" for k, old, new in diffs[:8])
        more = f" and {len(diffs) - 8} more" if len(diffs) > 8 else ""
        raise IncompatibleConfigError(
            f"{workdir} holds a run ({example}) made with another config, and resuming it "
            f"would change the result: {shown}{more}. Rerun with the saved values "
            f"({saved_file}), or use another --workdir"
        )


@contextlib.contextmanager
def open_run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> Iterator[None]:
    """Creates and locks `workdir`, checks a resume (`check_resume`), then records the
    config in `config.json`; unlocks when the block ends."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        reason = storage_failure(e)
        if reason is None:
            raise
        raise WorkdirError(f"cannot create workdir {workdir}: {reason}") from None
    lock = WorkdirLock.acquire(workdir, str(config.mode)) if parallel.is_main_process() else None
    try:
        check_resume(config, workdir)
        try:
            write_config(config, workdir)
        except OSError as e:
            reason = storage_failure(e)
            if reason is None:
                raise
            raise WorkdirError(f"cannot write to workdir {workdir}: {reason}") from None
        yield
    finally:
        if lock is not None:
            lock.release()
