"""A CPU host's cores split into XLA:CPU devices (`distributed.cpu_devices`,
`parallel.configure_cpu_devices`): the count rule against hand-worked cases, the
config errors, and fresh processes (the setting must come before JAX starts, so the
suite's own 4 fake devices cannot show it) for the library call and the command line.
"""

import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from configs import default
from dsiam_jax import jobs, parallel
from dsiam_jax.errors import ConfigError


@pytest.mark.parametrize(
    "batch, cores, expected",
    [
        (8, 2, 2),  # the 2-core laptop: 2 devices of 4 pairs
        (8, 1, 1),
        (8, 16, 4),  # >= 2 pairs per device: not 8 devices of 1
        (6, 4, 3),  # divisors of 6 up to 4 cores: 1, 2, 3
        (12, 5, 4),  # 1, 2, 3, 4
        (9, 2, 1),  # 2 does not divide 9
        (2, 8, 1),
        (1, 8, 1),  # a job that does not train
    ],
)
def test_cpu_device_count(batch, cores, expected):
    assert parallel.cpu_device_count(batch, cores) == expected


def test_bad_requests_name_the_field():
    with pytest.raises(ConfigError, match=r"distributed.cpu_devices=-1"):
        parallel.configure_cpu_devices(-1, 8)
    with pytest.raises(ConfigError, match=r"distributed.cpu_devices=3 does not divide .* 8"):
        parallel.configure_cpu_devices(3, 8)
    # a job that does not train (batch 1) takes any count; here JAX already started
    assert parallel.configure_cpu_devices(3, 1) is None


def test_started_backend_keeps_its_devices(monkeypatch):
    import jax

    before = jax.device_count()  # this process's backend is running (4 fake devices)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.delenv("JAX_NUM_CPU_DEVICES", raising=False)
    assert parallel.configure_cpu_devices(0, 8) is None
    assert parallel.configure_cpu_devices(2, 8) is None  # logged, not raised
    assert jax.device_count() == before


def test_training_batch_per_process():
    c = default.get_config()  # mode=pipeline, laptop preset
    c.train.batch_size, c.pipeline.laptop.batch_size = 16, 4
    assert jobs.training_batch_per_process(c) == 4  # the preset's batch
    c.pipeline.size = "full"
    assert jobs.training_batch_per_process(c) == 16
    c.mode = "distill"
    c.distributed.num_processes = 2
    assert jobs.training_batch_per_process(c) == 8  # per process
    c.mode = "evaluate"
    assert jobs.training_batch_per_process(c) == 1


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    env.update(extra)
    return env


PROBE = (
    "import sys; from dsiam_jax import parallel; "
    "set_ = parallel.configure_cpu_devices(int(sys.argv[1]), 8); "
    "import jax; print(set_, jax.device_count(), jax.default_backend())"
)


@pytest.mark.parametrize(
    "requested, env, expected",
    [
        (0, {}, "auto"),
        (1, {}, "1 1"),
        (4, {}, "4 4"),  # an explicit count is taken even above the cores
        (0, {"XLA_FLAGS": "--xla_force_host_platform_device_count=3"}, "None 3"),
        (2, {"JAX_NUM_CPU_DEVICES": "1"}, "None 1"),
    ],
)
def test_fresh_process_devices(requested, env, expected):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(requested)],
        cwd=REPO_ROOT,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    if expected == "auto":
        n = parallel.cpu_device_count(8, parallel.usable_cores())
        expected = f"{n} {n}"
    assert out.stdout.split()[:2] == expected.split()
    assert out.stdout.split()[2] == "cpu"


def test_command_line_trains_on_the_cores(tmp_path):
    """`python -m dsiam_jax.main` splits the cores before the job imports JAX: a 1-step
    training of a tiny SiamFC logs the mesh it ran on."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dsiam_jax.main",
            "--config=configs/default.py",
            "--config.mode=train",
            "--config.train.num_steps=1",
            "--config.train.batch_size=8",
            "--config.model.channels=(8,16,16,16,16)",
            "--config.data.template_size=103",
            "--config.data.search_size=151",
            f"--workdir={tmp_path / 'w'}",
        ],
        cwd=REPO_ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    n = parallel.cpu_device_count(8, parallel.usable_cores())
    assert f"on {n} devices (1 processes), global batch 8" in out.stderr
