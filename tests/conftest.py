"""Test setup: several fake CPU devices, set before JAX initialises.

Every test session sees 4 CPU devices, so the multi-device (shard_map) train
step is exercised on every run.
"""

import os

NUM_FAKE_DEVICES = 4

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={NUM_FAKE_DEVICES}"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def pytest_configure(config):
    assert jax.device_count() == NUM_FAKE_DEVICES, (
        "JAX initialised before tests/conftest.py could set the fake device count"
    )


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return REPO_ROOT


def cli_env() -> dict[str, str]:
    """The environment for a `python -m ...` subprocess: the repo first on PYTHONPATH,
    whatever was on it kept (packages carried that way, as on the GPU machine)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_cli(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `python -m dsiam_jax.main ARGS` from the repo root (as a user would)."""
    env = cli_env()
    proc = subprocess.run(
        [sys.executable, "-m", "dsiam_jax.main", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"CLI failed ({proc.returncode}): {' '.join(args)}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
        )
    return proc


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="module")
def fast_subprocesses(tmp_path_factory):
    """CLI subprocesses of a test module share a persistent XLA compilation cache and
    compile without LLVM optimisation (tiny models: compile time dominates)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path_factory.mktemp("xla_cache")))
        mp.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        flags = os.environ.get("XLA_FLAGS", "")
        mp.setenv("XLA_FLAGS", f"{flags} --xla_backend_optimization_level=0".strip())
        yield
