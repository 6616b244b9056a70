"""A real multi-process run: two processes on localhost, started with `jax.distributed`
(coordinator on 127.0.0.1, gloo CPU collectives, JAX's default), 2 fake CPU devices each,
distil a random tiny SiamFC teacher into a student through the real tf.data pipeline
(teacher cache on, as by default) and must end with the parameters and losses of one
process with 4 devices (same config, same global batches).

Each process reads its own half of every global batch (`data_pipelines.pairs`), the
4-device `data` mesh spans both processes, and only process 0 writes the workdir's logs.
Tolerance rtol 1e-5, atol 1e-6: the gradients and BatchNorm statistics are summed across
processes by gloo instead of inside one process, so only float rounding may differ
(measured: every leaf within 3e-7 of its largest magnitude, losses equal to the last bit).
Process 1 reading process 0's half instead of its own moves the first loss by 1.3e-2
relative (checked by that mutation).
"""

import json
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
from conftest import REPO_ROOT, cli_env

from dsiam_jax import checkpoints as C
from dsiam_jax import models as M

TIMEOUT_S = 240  # per CLI run; a hung collective is killed, never waited on forever

TEACHER_SPEC = M.ModelSpec(channels=(8, 16, 16, 16, 16))  # SiamFC, random weights
# 3 distillation steps of 8 pairs into one student, 103/151 crops (a 7x7 response).
DISTILL = (
    "-m",
    "dsiam_jax.main",
    "--config=configs/dstfc.py",
    "--config.distill.students=((8,16,16,16,8),)",
    "--config.train.input=pipeline",
    "--config.train.batch_size=8",
    "--config.train.num_steps=3",
    "--config.train.checkpoint_every=3",
    "--config.train.lr_start=0.1",
    "--config.train.lr_end=0.05",
    "--config.train.log_every=1",
    "--config.data.template_size=103",
    "--config.data.search_size=151",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(num_devices: int) -> dict[str, str]:
    env = cli_env()
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f]
    env["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={num_devices}"])
    return env


def _run_all(runs: list[tuple[list[str], dict[str, str]]], logs: pathlib.Path, tag: str) -> None:
    """Starts every `(args, env)` run at once and waits for all; kills them all when one
    fails or `TIMEOUT_S` passes (a process left waiting on a collective never hangs the test)."""
    procs = []
    for i, (args, env) in enumerate(runs):
        with open(logs / f"{tag}{i}.log", "w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, *args], cwd=REPO_ROOT, env=env, stdout=out, stderr=out
                )
            )
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while any(p.poll() is None for p in procs):
            if any(p.poll() not in (None, 0) for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    for i, p in enumerate(procs):
        if p.returncode != 0:
            text = (logs / f"{tag}{i}.log").read_text()
            raise AssertionError(f"run {i} exited with {p.returncode}:\n{text[-6000:]}")


def _variables(workdir: pathlib.Path) -> dict[str, np.ndarray]:
    """`{'student_0/params/...': array}` of the last checkpoint (step 3)."""
    out = {}
    for name, model in C.load_models(workdir).items():
        assert model.info["step"] == 3, name
        out.update({"/".join((name, *k)): np.asarray(v) for k, v in _flat(model.variables)})
    return out


def _flat(tree, prefix=()):
    for k, v in tree.items():
        if isinstance(v, dict):
            yield from _flat(v, (*prefix, k))
        else:
            yield (*prefix, k), v


def _losses(workdir: pathlib.Path) -> list[float]:
    return [
        json.loads(line)["loss"] for line in (workdir / "metrics.jsonl").read_text().splitlines()
    ]


def _two_processes(*args: str) -> list[tuple[list[str], dict[str, str]]]:
    """The runs of processes 0 and 1 of a 2-process job (2 devices each) on localhost."""
    dist = (
        "--config.distributed.initialize=yes",
        f"--config.distributed.coordinator_address=127.0.0.1:{_free_port()}",
        "--config.distributed.num_processes=2",
    )
    return [([*args, *dist, f"--config.distributed.process_id={i}"], _env(2)) for i in range(2)]


def test_two_processes_equal_one(fast_subprocesses, tmp_path):
    teacher, one, two = tmp_path / "teacher", tmp_path / "one", tmp_path / "two"
    store = C.CheckpointStore(teacher)
    variables = M.numpy_variables(TEACHER_SPEC, 0, random_batchnorm=True)
    store.save(1, {"teacher": C.TrackerModel("teacher", TEACHER_SPEC, variables, "teacher")})
    store.close()
    common = (*DISTILL, f"--config.teacher.checkpoint={teacher}")
    runs = [([*common, f"--workdir={one}"], _env(4))]  # the reference: 1 process, 4 devices
    runs += _two_processes(*common, f"--workdir={two}")
    _run_all(runs, tmp_path, "run")  # all three at once: on 2 cores they overlap waits
    # Process 0 alone wrote the logs (one line per step, one TensorBoard file).
    assert len(list(two.glob("events.out.tfevents.*"))) == 1
    np.testing.assert_allclose(_losses(two), _losses(one), rtol=1e-5)
    a, b = _variables(one), _variables(two)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-6, err_msg=key)
