"""Devices, the 1-D `data` mesh, and multi-host start-up (`jax.distributed`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

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
