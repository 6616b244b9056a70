"""Teacher-output cache: the frozen teacher's outputs per training example, on disk.

Example g = step * B + b of a run is a pure function of (seed, g, `config.data`,
`train.input`), and the teacher is frozen, so its outputs on example g never change.
The first run that needs them computes them with a separate jitted teacher forward
(`step.make_teacher_forward`) and stores them; every later run that sees the same
examples (other ablation rows or student seeds on the same data seed, a resumed or
longer run) reads them and its step runs only the students. A run that builds the
cache and one that reads it feed the step the same values, so they are equal bit
for bit. Against the teacher run inside the step they are equal up to float rounding
(a program that computes the teacher may order the loss's reductions differently:
relative 1e-6 in a gradient norm with the spatial soft loss; bit for bit with the
pointwise one on XLA:CPU; tested).

Layout (`distill.teacher_cache` = a folder F, or 'auto'):

    F/<key digest>/manifest.json        the key (below), written once
    F/<key digest>/batch_000000012.npz  batch index 12 = examples 96..103 (B = 8)

The key: a SHA-256 of the teacher's spec and variables (not its path), the teacher
outputs stored and their shapes, `train.input`, every `config.data` field except the
speed-only ones (`NON_KEY_DATA_FIELDS`), `config.seed` (it drives the data) and the
global batch size (a file holds one step's batch), and the compute dtype when it is
not float32 (`train.compute_dtype`). Another teacher or other data
settings get another subfolder, so a stale cache is never read; the log names the
fields in which the new key differs from the nearest existing one. The xcorr /
conv1 lowering and the device count only change float rounding and are not keyed.
What the key cannot see: files under `data.root` edited in place.

A batch file holds the outputs (`response`, or `cls` and `reg`; `features` when
the hint loss is on), float32 `[B, ...]`, plus a `__meta__` record with the key
digest, the batch index and a SHA-256 of the arrays. It is written to a temporary
file and renamed, so a kill never leaves a file that passes as complete; a damaged
file (truncated, bytes changed, wrong key or shape) stops the run with a
`TeacherCacheError` naming it. A missing file is simply computed, so a partial
cache (killed run) serves a resume; temporary files a kill left are deleted later.

Several processes: at the start of a run process 0 lists the files present and
broadcasts the list, so every process takes the same read-or-compute decision per
step; on a computed step the outputs are gathered and only process 0 writes the
file; on a read step every process reads its own rows of it (a shared filesystem,
as for checkpoints).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import secrets
import time
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np
from absl import logging
from jax.experimental import multihost_utils

from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.train import step as step_lib
from dsiam_jax.train.settings import RunSettings
from dsiam_jax.train.state import TrainPlan

FORMAT = 1
OFF, AUTO = "off", "auto"
AUTO_FOLDER = "teacher_cache"  # 'auto' in a standalone distill run: WORKDIR/teacher_cache
# A standalone 'auto' run caches only up to this projected size (its only reuse is a
# resume); a folder given explicitly (or by the pipeline / ablation jobs) always caches.
AUTO_MAX_BYTES = 8 * 2**30
# config.data fields that change how fast examples are made, not what they are.
NON_KEY_DATA_FIELDS = ("num_parallel_calls", "num_threads", "prefetch", "synthetic.write_splits")
META = "__meta__"
FILE_PREFIX, FILE_SUFFIX = "batch_", ".npz"

Arrays = dict[str, np.ndarray]


class TeacherCacheError(UserError, ValueError):
    """A damaged or inconsistent teacher-cache file (names it and what to do)."""


def teacher_digest(spec: M.ModelSpec, variables: Any) -> str:
    """SHA-256 (hex) of the teacher's spec and every variable (path, dtype, shape, bytes)."""
    h = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode())
    for path, leaf in jax.tree_util.tree_flatten_with_path(variables)[0]:
        leaf = np.ascontiguousarray(leaf)
        h.update(f"{jax.tree_util.keystr(path)}|{leaf.dtype}|{leaf.shape}|".encode())
        h.update(leaf.tobytes())
    return h.hexdigest()


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> `{dotted key: JSON-ready leaf}` (tuples become lists)."""
    flat = {}
    for k, v in tree.items():
        if isinstance(v, Mapping):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = list(v) if isinstance(v, tuple | list) else v
    return flat


def output_shapes(plan: TrainPlan) -> dict[str, list[int]]:
    """Per-example shape of each cached teacher output (no compilation)."""
    z = jax.ShapeDtypeStruct((1, plan.template_size, plan.template_size, 3), np.uint8)
    x = jax.ShapeDtypeStruct((1, plan.search_size, plan.search_size, 3), np.uint8)
    v = jax.eval_shape(lambda: M.init_variables(plan.teacher_model(), jax.random.key(0)))
    out = jax.eval_shape(lambda v, z, x: M.forward(plan.teacher_model(), v, z, x), v, z, x)
    return {n: list(out[n].shape[1:]) for n in step_lib.teacher_output_names(plan)}


def cache_key(run: RunSettings, plan: TrainPlan, teacher_variables: Any) -> dict[str, Any]:
    """Everything the cached values depend on, JSON-ready (see the module docstring)."""
    data = _flatten(run.data)
    key = {
        "format": FORMAT,
        "teacher_sha256": teacher_digest(plan.teacher_spec, teacher_variables),
        "teacher_spec": plan.teacher_spec.to_dict(),
        "outputs": output_shapes(plan),
        "input": run.input,
        "data": {k: v for k, v in sorted(data.items()) if k not in NON_KEY_DATA_FIELDS},
        "seed": run.seed,
        "batch_size": run.batch_size,
    }
    if plan.compute_dtype != "float32":  # bfloat16 teacher outputs differ (float32 keys unchanged)
        key["compute_dtype"] = plan.compute_dtype
    return json.loads(json.dumps(key))  # as the manifest reads back (tuples -> lists)


def key_digest(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def differing_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Dotted names of the fields in which two keys differ."""
    fa, fb = _flatten(a), _flatten(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, None) != fb.get(k, None))


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of named arrays (name, dtype, shape and bytes, in name order)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _write_atomic(path: pathlib.Path, write) -> None:
    """`write(file)` into a temporary file next to `path`, then rename it to `path`
    (created with the umask's permissions, like the checkpoints)."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class TeacherCache:
    """One key's folder: the manifest and one file per batch index."""

    def __init__(self, folder: pathlib.Path, key: Mapping[str, Any]):
        self.folder = folder
        self.key = dict(key)
        self.digest = key_digest(key)
        self.shapes = {n: (int(key["batch_size"]), *s) for n, s in key["outputs"].items()}

    @classmethod
    def open(cls, root: str | os.PathLike, key: Mapping[str, Any]) -> TeacherCache:
        """The cache of `key` under `root` (created, with its manifest, on process 0)."""
        root = pathlib.Path(root)
        cache = cls(root / key_digest(key)[:16], key)
        manifest = cache.folder / "manifest.json"
        if manifest.is_file():
            saved = _read_manifest(manifest)
            if saved != cache.key:
                raise TeacherCacheError(
                    f"{manifest} holds another key (fields {differing_fields(saved, cache.key)}"
                    f" differ) under this key's digest: delete {cache.folder}"
                )
        elif parallel.is_main_process():
            _log_nearest(root, cache.key)
            cache.folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(cache.key, indent=2, sort_keys=True) + "\n"
            _write_atomic(manifest, lambda f: f.write(text.encode()))
        if parallel.is_main_process():
            cache.remove_stale_temporaries()
        return cache

    def remove_stale_temporaries(self, age_s: float = 600.0) -> None:
        """Deletes temporary files a killed writer left (older than `age_s`)."""
        now = time.time()
        for p in self.folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > age_s:
                    p.unlink()

    def path(self, index: int) -> pathlib.Path:
        return self.folder / f"{FILE_PREFIX}{index:09d}{FILE_SUFFIX}"

    def present(self) -> set[int]:
        """Batch indices with a file (complete by construction; checked when read)."""
        indices = set()
        if self.folder.is_dir():
            for p in self.folder.iterdir():
                n = p.name
                if n.startswith(FILE_PREFIX) and n.endswith(FILE_SUFFIX):
                    stem = n[len(FILE_PREFIX) : -len(FILE_SUFFIX)]
                    if stem.isdigit():
                        indices.add(int(stem))
        return indices

    def write(self, index: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Stores batch `index` (global `[B, ...]` float32 arrays) atomically."""
        arrays = {n: np.asarray(arrays[n], np.float32) for n in self.shapes}
        meta = {"key": self.digest, "index": index, "sha256": arrays_sha256(arrays)}
        payload = {**arrays, META: np.frombuffer(json.dumps(meta).encode(), np.uint8)}
        _write_atomic(self.path(index), lambda f: np.savez(f, **payload))

    def read(self, index: int) -> Arrays:
        """Batch `index`, checked (key, index, shapes, checksum); else `TeacherCacheError`."""
        path = self.path(index)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {n: f[n] for n in f.files}
            meta = json.loads(arrays.pop(META).tobytes())
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            raise self._damaged(path, f"unreadable: {type(e).__name__}: {e}") from None
        if not isinstance(meta, dict):
            raise self._damaged(path, f"no record of what it holds ({meta!r})")
        if meta.get("key") != self.digest or meta.get("index") != index:
            raise self._damaged(path, f"written for another key or batch ({meta})")
        shapes = {n: a.shape for n, a in arrays.items()}
        if shapes != self.shapes:
            raise self._damaged(path, f"arrays {shapes}, expected {self.shapes}")
        if arrays_sha256(arrays) != meta.get("sha256"):
            raise self._damaged(path, "checksum mismatch")
        return arrays

    def _damaged(self, path: pathlib.Path, why: str) -> TeacherCacheError:
        return TeacherCacheError(
            f"teacher cache file {path} is damaged ({why}): delete it and run again "
            "(missing batches are recomputed)"
        )


def _read_manifest(path: pathlib.Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise TeacherCacheError(
            f"teacher cache manifest {path} is damaged ({e}): delete {path.parent}"
        ) from None


def _log_nearest(root: pathlib.Path, key: Mapping[str, Any]) -> None:
    """Says why a new cache is built when others exist (the fields that differ)."""
    others = []
    for manifest in sorted(root.glob("*/manifest.json")):
        try:
            others.append((differing_fields(json.loads(manifest.read_text()), key), manifest))
        except (OSError, ValueError):
            continue
    if others:
        fields, manifest = min(others, key=lambda o: len(o[0]))
        logging.info(
            "teacher cache: none in %s for this teacher and data; the nearest (%s) differs "
            "in %s: building a new one",
            root,
            manifest.parent.name,
            ", ".join(fields),
        )


def resolve_folder(value: str, workdir: pathlib.Path) -> pathlib.Path | None:
    """The cache root of `distill.teacher_cache` = `value` ('off': None; 'auto':
    WORKDIR/teacher_cache; else the folder)."""
    value = value.strip()
    if value == OFF:
        return None
    if not value:
        raise ConfigError("config.distill.teacher_cache is empty: give off, auto or a folder")
    if value == AUTO:
        return workdir / AUTO_FOLDER
    return pathlib.Path(value).expanduser().resolve()


def open_for_run(
    run: RunSettings, workdir: pathlib.Path, plan: TrainPlan, teacher_variables: Any
) -> TeacherCache | None:
    """The cache a `mode=distill` run uses, or None (off, or 'auto' above AUTO_MAX_BYTES)."""
    root = resolve_folder(run.teacher_cache, workdir)
    if root is None or plan.teacher_spec is None:
        return None
    key = cache_key(run, plan, teacher_variables)
    per_example = 4 * sum(int(np.prod(s)) for s in key["outputs"].values())
    total = per_example * key["batch_size"] * run.num_steps
    if run.teacher_cache.strip() == AUTO and total > AUTO_MAX_BYTES:
        logging.warning(
            "teacher cache off: this run's teacher outputs would take %.1f GB "
            "(distill.teacher_cache='auto' caches up to %.0f GB; give a folder to cache anyway)",
            total / 1e9,
            AUTO_MAX_BYTES / 1e9,
        )
        return None
    cache = TeacherCache.open(root, key)
    logging.info("teacher cache %s (%.1f MB when complete)", cache.folder, total / 1e6)
    return cache


def present_batches(cache: TeacherCache, start: int, stop: int) -> np.ndarray:
    """bool `[stop - start]`: which batches are cached; the same on every process."""
    present = cache.present() if parallel.is_main_process() else set()
    mask = np.asarray([i in present for i in range(start, stop)], np.bool_)
    if jax.process_count() > 1:
        mask = np.asarray(multihost_utils.broadcast_one_to_all(mask), np.bool_)
    return mask


def _host(x: jax.Array) -> np.ndarray:
    """A global array on the host of every process."""
    if x.is_fully_addressable:
        return np.asarray(x)
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def with_teacher_outputs(
    batches: Iterator[step_lib.Batch],
    cache: TeacherCache,
    plan: TrainPlan,
    mesh,
    teacher_vars: Any,
    start: int,
    stop: int,
) -> Iterator[step_lib.Batch]:
    """Batches `start..stop-1` with `teacher/<output>` keys, read from the cache or
    computed (separate jitted teacher forward), stored and passed on.

    Read arrays are sharded over `data` like the batch (each process puts its own
    rows); computed ones are the teacher forward's sharded outputs themselves.
    """
    mask = present_batches(cache, start, stop)
    logging.info(
        "teacher cache: batches %d..%d: %d stored (read), %d to compute",
        start,
        stop - 1,
        int(mask.sum()),
        int((~mask).sum()),
    )
    sharding = parallel.batch_sharding(mesh)
    local = int(cache.key["batch_size"]) // jax.process_count()
    rows = slice(jax.process_index() * local, (jax.process_index() + 1) * local)
    teacher_forward = None
    for index in range(start, stop):
        batch = next(batches)
        if mask[index - start]:
            arrays = cache.read(index)
        else:
            if teacher_forward is None:
                teacher_forward = step_lib.make_teacher_forward(plan, mesh)
            computed = teacher_forward(teacher_vars, batch)
            arrays = {n: _host(computed[step_lib.TEACHER_PREFIX + n]) for n in cache.shapes}
            if parallel.is_main_process():
                cache.write(index, arrays)
        # Stored or just computed, the step gets the same float32 host values the same
        # way (each process its rows), so building and reading runs are identical.
        outputs = {
            step_lib.TEACHER_PREFIX + n: jax.make_array_from_process_local_data(
                sharding, np.asarray(arrays[n][rows], np.float32)
            )
            for n in cache.shapes
        }
        yield {**batch, **outputs}
