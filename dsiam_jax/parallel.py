"""Devices, the 1-D `data` mesh, and multi-host start-up (`jax.distributed`).

On a host without accelerators a process's cores are split into several XLA:CPU
devices before JAX starts (`configure_cpu_devices`), so that the data-parallel step
runs one slice of the batch per core: on the 2-core development VM, 2 devices of 4
pairs against one device of 8 (`benchmarks/cpu_devices.py`,
`benchmarks/results/cpu_devices.json`, 2026-12-04, two alternated rounds) ran the two
students' distillation step with cached teacher outputs 1.14-1.21x as fast (1.09-1.14x
with each student computing its own conv1, `Lowering.shared_conv1`, which gains only on
two devices), teacher + 2 students 1.07-1.13x, the SiamFC teacher's training
1.01-1.03x (the students' many small convs and elementwise ops use two cores better as
two programs than as the intra-op threads of one). BatchNorm statistics are
synchronised over the mesh (`train.sync_batchnorm`), so the split changes float
rounding only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from dsiam_jax.errors import ConfigError

DATA_AXIS = "data"

_initialized = False  # jax.distributed.initialize may run once per process

# Environment variables that mean "this process is one of several".
_CLUSTER_HINTS = ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE")


def _multi_process_env() -> bool:
    for name in _CLUSTER_HINTS:
        value = os.environ.get(name)
        if value and (name == "JAX_COORDINATOR_ADDRESS" or int(value) > 1):
            return True
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    return len([h for h in hosts.split(",") if h]) > 1


def initialize_distributed(config: Mapping[str, Any]) -> bool:
    """Starts `jax.distributed` when the config or the environment asks for it.

    `config.distributed.initialize`: 'auto' (when a coordinator address is given or
    a multi-process cluster is detected), 'yes' or 'no'. Returns whether it is
    initialised. Safe to call again (multi-job runs call it per stage).
    """
    global _initialized
    if _initialized:
        return True
    dist = config.get("distributed", {}) if hasattr(config, "get") else {}
    mode = dist.get("initialize", "auto")
    address = dist.get("coordinator_address", "")
    if mode == "no" or (mode == "auto" and not address and not _multi_process_env()):
        return False
    kwargs = {}
    if address:
        kwargs["coordinator_address"] = address
        if dist.get("num_processes", 0) > 0:
            kwargs["num_processes"] = dist["num_processes"]
        if dist.get("process_id", -1) >= 0:
            kwargs["process_id"] = dist["process_id"]
    jax.distributed.initialize(**kwargs)
    _initialized = True
    logging.info(
        "jax.distributed: process %d of %d, %d local / %d global devices",
        jax.process_index(),
        jax.process_count(),
        jax.local_device_count(),
        jax.device_count(),
    )
    return True


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_device_count(batch: int, cores: int) -> int:
    """XLA:CPU devices for a data-parallel batch of `batch` pairs per process on `cores`
    cores: one per core, as many as divide the batch and leave >= 2 pairs each (a
    1-pair program takes other kernels: `Lowering.library`); at least 1."""
    fits = [d for d in range(1, cores + 1) if batch % d == 0 and batch // d >= 2]
    return max(fits, default=1)


def configure_cpu_devices(requested: int, batch: int) -> int | None:
    """Splits this process's cores into XLA:CPU devices; call before any JAX operation.

    `requested` (`distributed.cpu_devices`): N > 0 devices, or 0 for
    `cpu_device_count(batch, usable_cores())`, where `batch` is the per-process batch
    of the job's training (1 for jobs that do not train). It applies to the CPU backend
    only (an accelerator host keeps its accelerators as the default devices). An
    explicit setting in the environment (`XLA_FLAGS=--xla_force_host_platform_device_count`,
    `JAX_NUM_CPU_DEVICES`) is kept, and so is a backend that already started (a notebook
    or test that ran JAX before). Returns the count set, or None where it kept one.
    """
    if requested < 0:
        raise ConfigError(f"distributed.cpu_devices={requested}: expected 0 (auto) or a count")
    if requested and batch > 1 and batch % requested:  # (a job that trains)
        raise ConfigError(
            f"distributed.cpu_devices={requested} does not divide the batch of "
            f"{batch} pairs per process (train.batch_size)"
        )
    xla_flags = os.environ.get("XLA_FLAGS", "")
    if "JAX_NUM_CPU_DEVICES" in os.environ or "host_platform_device_count" in xla_flags:
        if requested:
            logging.info("distributed.cpu_devices=%d: the environment's count is kept", requested)
        return None
    count = requested or cpu_device_count(batch, usable_cores())
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:  # backends already initialised: their devices stay
        if requested:
            logging.warning("distributed.cpu_devices=%d ignored: JAX already started", requested)
        return None
    return count


def is_main_process() -> bool:
    """True on process 0 (the one that writes logs, plots and JSON files)."""
    return jax.process_index() == 0


def data_mesh(num_devices: int | None = None) -> Mesh:
    """A 1-D mesh over the first `num_devices` devices (all by default), axis `data`.

    Uses the Auto axis type: the default Explicit mode breaks the models' reshapes.
    """
    devices = jax.devices()
    n = len(devices) if num_devices is None else num_devices
    if not 0 < n <= len(devices):
        raise ValueError(f"asked for {n} devices, have {len(devices)}")
    return jax.make_mesh(
        (n,), (DATA_AXIS,), axis_types=(jax.sharding.AxisType.Auto,), devices=devices[:n]
    )


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over `data`."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Fully replicated over the mesh."""
    return NamedSharding(mesh, PartitionSpec())
