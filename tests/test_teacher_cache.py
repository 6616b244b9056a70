"""Teacher-output cache: a run that builds it, one that reads it and one with the teacher
in the step give the same losses and updates bit for bit (SiamFC on 1 and 4 devices,
SiamRPN with the hint feature); another teacher or other data never reads a stale
cache; a damaged file stops the run naming it; a killed run's partial cache serves
its resume, which ends equal to an uninterrupted run.

Tiny networks, 103/151 crops and toy pairs. Each step program is compiled once per
(kind, device count) and reused by every run here; the module shares a persistent
XLA cache (the trainer runs of the resume test load the same programs) and compiles
without most XLA optimisations.
"""

import contextlib
import dataclasses
import json
import os
import pathlib

import jax
import numpy as np
import pytest
from jax.experimental.compilation_cache import compilation_cache

from configs import ablation as ablation_config
from configs import default, dstfc, dstrpn
from dsiam_jax import checkpoints as C
from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.jobs import ablation, pipeline
from dsiam_jax.jobs import train as train_job
from dsiam_jax.train import state as state_lib
from dsiam_jax.train import step as step_lib
from dsiam_jax.train import teacher_cache as TC
from dsiam_jax.train.settings import RunSettings

STEPS = 4
FAST = "jax_disable_most_optimizations"
TEACHERS = {  # kind -> tiny teacher spec (SiamFC scaled to responses of a few units)
    "siamfc": M.teacher_spec("siamfc").replace(channels=(16, 32, 32, 32, 32), out_scale=1e-5),
    "siamrpn": M.teacher_spec("siamrpn").replace(channels=(16, 32, 32, 32, 32), head_channels=16),
}


@pytest.fixture(scope="module", autouse=True)
def fast_compiles(tmp_path_factory):
    """For this module: a persistent compilation cache (the trainer runs load the
    programs the step-level runs compiled) and, where this JAX has the flag, XLA
    without most optimisations (half the compile time; every run here compiles the
    same way). Both are restored afterwards."""
    saved = {
        "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        "jax_persistent_cache_min_compile_time_secs": (
            jax.config.jax_persistent_cache_min_compile_time_secs
        ),
    }
    with contextlib.suppress(AttributeError, KeyError):
        saved[FAST] = jax.config.read(FAST)
    compilation_cache.set_cache_dir(str(tmp_path_factory.mktemp("xla_cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    if FAST in saved:
        jax.config.update(FAST, True)
    compilation_cache.reset_cache()
    yield
    for name, value in saved.items():
        jax.config.update(name, value)
    compilation_cache.reset_cache()


def save_teacher(folder: pathlib.Path, spec: M.ModelSpec, seed: int) -> dict:
    """A teacher checkpoint with random NumPy weights (random BatchNorm too); its variables."""
    variables = M.numpy_variables(spec, seed, random_batchnorm=True)
    store = C.CheckpointStore(folder)
    store.save(1, {"teacher": C.TrackerModel("teacher", spec, variables, "teacher")})
    store.close()
    return variables


def make_config(kind: str, teacher: pathlib.Path, cache: str = "off"):
    """configs/dstfc.py (2 students, sharing) or dstrpn.py (1 student, hint) made tiny."""
    config = (dstfc if kind == "siamfc" else dstrpn).get_config()
    config.teacher.checkpoint = str(teacher)
    config.distill.teacher_cache = cache
    config.train.input = "toy"
    config.train.num_steps = STEPS
    config.train.checkpoint_every = 2
    config.train.log_every = 1
    config.train.batch_size = 4
    config.train.num_devices = 1
    config.train.warmup_steps = 0
    config.data.template_size = 103
    config.data.search_size = 151
    config.data.augment.search_shift = 24
    if kind == "siamfc":
        config.distill.students = ((8, 16, 16, 16, 16), (8, 16, 16, 16, 8))
    else:
        config.distill.students = ((8, 16, 16, 16, 16),)
        config.distill.student_head_channels = 8
        config.distill.lambda_hint = 1e-3  # the teacher's search feature is cached too
    return config


@dataclasses.dataclass
class Setup:
    """One kind's teacher(s), plan, initial state, batches and compiled steps."""

    kind: str
    root: pathlib.Path
    plan: state_lib.TrainPlan
    teachers: dict  # 'a' | 'b' -> host variables (b: other weights, same spec)
    init_state: state_lib.TrainState  # host
    batches: list  # host toy batches of steps 1..STEPS
    steps: dict = dataclasses.field(default_factory=dict)  # num_devices -> jitted step

    def config(self, cache: str = "off", teacher: str = "a"):
        return make_config(self.kind, self.root / f"teacher_{teacher}", cache)

    def step(self, num_devices: int):
        if num_devices not in self.steps:
            self.steps[num_devices] = step_lib.make_train_step(
                self.plan, parallel.data_mesh(num_devices)
            )
        return self.steps[num_devices]


@pytest.fixture(scope="module")
def setups(tmp_path_factory):
    made = {}

    def get(kind: str) -> Setup:
        if kind not in made:
            root = tmp_path_factory.mktemp(kind)
            teachers = {
                name: save_teacher(root / f"teacher_{name}", TEACHERS[kind], seed)
                for name, seed in (("a", 1), ("b", 2))
            }
            config = make_config(kind, root / "teacher_a")
            plan, _ = train_job.build_plan(config)
            mesh = parallel.data_mesh(1)
            state = jax.device_get(state_lib.init_state_on_mesh(plan, config.seed, mesh))
            batches = train_job.make_batches(config, mesh, 0)
            host = [jax.device_get(next(batches)) for _ in range(STEPS)]
            made[kind] = Setup(kind, root, plan, teachers, state, host)
        return made[kind]

    return get


def run(setup: Setup, num_devices: int, cache: pathlib.Path | None, teacher: str = "a"):
    """STEPS steps as the trainer takes them; `cache`: a cache folder or None (the teacher
    in the step, or on CPU in its own program just before). Returns the host state and
    each step's metrics."""
    mesh = parallel.data_mesh(num_devices)
    state = state_lib.put_replicated(setup.init_state, mesh)
    teacher_vars = state_lib.put_replicated(setup.teachers[teacher], mesh)
    sharding = parallel.batch_sharding(mesh)
    batches = iter([jax.device_put(b, sharding) for b in setup.batches])
    if cache is not None:
        config = setup.config(str(cache), teacher)
        tc = TC.open_for_run(
            RunSettings.from_config(config), setup.root, setup.plan, setup.teachers[teacher]
        )
        batches = TC.with_teacher_outputs(batches, tc, setup.plan, mesh, teacher_vars, 0, STEPS)
        teacher_vars = {}
    elif not setup.plan.lowering.teacher_in_step:  # CPU: the teacher's own program
        batches = step_lib.with_teacher_forward(batches, setup.plan, mesh, teacher_vars)
        teacher_vars = {}
    step = setup.step(num_devices)
    history = []
    for _ in range(STEPS):
        state, metrics = step(state, next(batches), teacher_vars)
        history.append(jax.device_get(metrics))  # blocks: no back-to-back collectives
    return jax.device_get(state), history


def assert_same_run(a, b, rtol: float = 0.0):
    """Equal metrics of every step and final train state: bitwise (rtol 0) or to rtol."""
    (state_a, hist_a), (state_b, hist_b) = a, b

    def check(x, y, msg=""):
        if rtol:
            np.testing.assert_allclose(y, x, rtol=rtol, atol=1e-6, err_msg=msg)
        else:
            np.testing.assert_array_equal(y, x, err_msg=msg)

    for step, (ma, mb) in enumerate(zip(hist_a, hist_b, strict=True), 1):
        assert set(ma) == set(mb)
        for k in ma:
            check(ma[k], mb[k], f"step {step} {k}")
    leaves_a, tree_a = jax.tree_util.tree_flatten(state_a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(state_b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b, strict=True):
        check(x, y)


def files(cache_root: pathlib.Path) -> dict[str, tuple[int, int]]:
    """`{relative path: (inode, mtime_ns)}` of every batch file (a rewrite changes both)."""
    return {
        str(p.relative_to(cache_root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in cache_root.glob("*/batch_*.npz")
    }


@pytest.mark.parametrize("kind,num_devices", [("siamfc", 1), ("siamrpn", 4)])
def test_built_read_and_in_step_teacher_runs_are_equal(setups, tmp_path, kind, num_devices):
    setup = setups(kind)
    built = run(setup, num_devices, tmp_path)
    stored = files(tmp_path)
    assert len(stored) == STEPS
    read = run(setup, num_devices, tmp_path)
    assert files(tmp_path) == stored  # every batch read, none computed again
    assert_same_run(built, read)
    # The teacher run inside the step: the same float32 teacher values, but the step is
    # another program, whose reductions of the (spatial) soft loss XLA may order
    # differently: equal to rounding (measured: 8e-7 relative in a gradient norm, 1.3e-7
    # absolute in the response bias after 3 steps).
    in_step = run(setup, num_devices, None)
    assert_same_run(built, in_step, rtol=1e-5)

    metrics = built[1][0]
    assert "student_0/soft" in metrics
    if kind == "siamrpn":
        assert "student_0/hint" in metrics and "student_0/bound" in metrics
        name = next(iter(stored))
        with np.load(tmp_path / name) as f:
            assert f["features"].shape == (4, 9, 9, 32)  # 151 search crop, teacher conv5
            assert f["cls"].shape == (4, 7, 7, 10) and f["reg"].shape == (4, 7, 7, 20)
    moved = jax.tree_util.tree_map(
        lambda x, y: float(np.abs(x - y).max()), setup.init_state.params, built[0].params
    )
    assert min(jax.tree_util.tree_leaves(moved)) > 0


def test_another_teacher_gets_its_own_cache(setups, tmp_path):
    setup = setups("siamfc")
    a = run(setup, 1, tmp_path, teacher="a")
    b = run(setup, 1, tmp_path, teacher="b")
    assert len(list(tmp_path.glob("*/manifest.json"))) == 2
    assert len(files(tmp_path)) == 2 * STEPS
    # Same students, same batch: equal ground-truth loss at step 1; other soft targets.
    first_a, first_b = a[1][0], b[1][0]
    assert first_a["student_0/gt"] == first_b["student_0/gt"]
    assert abs(first_a["student_0/soft"] - first_b["student_0/soft"]) > 1e-3
    for name in files(tmp_path):
        with np.load(tmp_path / name) as f:
            assert np.isfinite(f["response"]).all() and f["response"].std() > 0.5


def test_key_covers_teacher_data_seed_and_batch(setups, tmp_path, caplog):
    setup = setups("siamfc")
    base = setup.config()
    key = TC.cache_key(RunSettings.from_config(base), setup.plan, setup.teachers["a"])
    assert key == TC.cache_key(RunSettings.from_config(base), setup.plan, setup.teachers["a"])

    def changed(edit) -> list[str]:
        config = setup.config()
        teacher = edit(config) or setup.teachers["a"]
        return TC.differing_fields(
            key, TC.cache_key(RunSettings.from_config(config), setup.plan, teacher)
        )

    one_weight = jax.tree_util.tree_map(np.copy, setup.teachers["a"])
    one_weight["params"]["backbone"]["conv1"]["kernel"][0, 0, 0, 0] += 1e-3
    assert changed(lambda c: one_weight) == ["teacher_sha256"]
    assert changed(lambda c: setattr(c.data, "negative_prob", 0.3)) == ["data.negative_prob"]
    assert changed(lambda c: setattr(c.data.augment, "color", 0.2)) == ["data.augment.color"]
    assert changed(lambda c: setattr(c.data.synthetic, "seed", 3)) == ["data.synthetic.seed"]
    assert changed(lambda c: setattr(c, "seed", 1)) == ["seed"]
    assert changed(lambda c: setattr(c.train, "input", "pipeline")) == ["input"]
    assert changed(lambda c: setattr(c.train, "batch_size", 16)) == ["batch_size"]
    # Speed-only fields and the student recipe do not touch the teacher's outputs.
    assert changed(lambda c: setattr(c.data, "num_parallel_calls", 2)) == []
    assert changed(lambda c: setattr(c.distill, "temperature", 4.0)) == []

    TC.TeacherCache.open(tmp_path, key)
    other = TC.cache_key(
        RunSettings.from_config(make_config_with(setup, "data.negative_prob", 0.5)),
        setup.plan,
        setup.teachers["a"],
    )
    with caplog.at_level("INFO", logger="absl"):  # the absl logger's own level may be raised
        opened = TC.TeacherCache.open(tmp_path, other)
    assert "differs in data.negative_prob: building a new one" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [TC.key_digest(key)[:16], opened.folder.name]
    )
    # A manifest under the wrong digest (edited by hand) is refused, naming the fields.
    (opened.folder / "manifest.json").write_text(json.dumps(key))
    with pytest.raises(TC.TeacherCacheError, match=r"\['data.negative_prob'\] differ"):
        TC.TeacherCache.open(tmp_path, other)


def make_config_with(setup: Setup, field: str, value):
    config = setup.config()
    section, leaf = field.split(".")
    config[section][leaf] = value
    return config


def small_cache(tmp_path) -> TC.TeacherCache:
    key = {"outputs": {"response": [3, 3]}, "batch_size": 2, "seed": 0}
    return TC.TeacherCache.open(tmp_path, key)


def test_damaged_files_stop_with_a_clear_error(tmp_path):
    cache = small_cache(tmp_path)
    values = [np.arange(18, dtype=np.float32).reshape(2, 3, 3) + i for i in range(4)]
    for i, v in enumerate(values):
        cache.write(i, {"response": v})
    assert cache.present() == {0, 1, 2, 3}
    np.testing.assert_array_equal(cache.read(3)["response"], values[3])

    path = cache.path(0)
    path.write_bytes(path.read_bytes()[:-40])  # truncated
    with pytest.raises(TC.TeacherCacheError, match=r"batch_000000000.npz is damaged"):
        cache.read(0)
    data = bytearray(cache.path(1).read_bytes())
    at = bytes(data).index(values[1].tobytes())
    data[at + 5] ^= 0xFF  # one byte of the values changed
    cache.path(1).write_bytes(bytes(data))
    with pytest.raises(TC.TeacherCacheError, match="delete it and run again"):
        cache.read(1)
    cache.path(2).write_bytes(cache.path(3).read_bytes())  # a file under another name
    with pytest.raises(TC.TeacherCacheError, match="another key or batch"):
        cache.read(2)
    assert issubclass(TC.TeacherCacheError, UserError)  # main prints one `error:` line


def test_a_write_killed_midway_leaves_no_file(tmp_path, monkeypatch):
    cache = small_cache(tmp_path)

    def killed(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(TC.np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.write(0, {"response": np.zeros((2, 3, 3), np.float32)})
    assert sorted(p.name for p in cache.folder.iterdir()) == ["manifest.json"]
    assert cache.present() == set()
    # A SIGKILL skips the clean-up: its temporary file goes when the cache is reopened.
    left = cache.folder / f".{cache.path(0).name}.x1y2.tmp"
    left.write_bytes(b"PK\x03\x04 partial")
    os.utime(left, (0, 0))
    assert small_cache(tmp_path).present() == set() and not left.exists()


def test_resume_reuses_the_partial_cache_and_equals_an_uninterrupted_run(setups, tmp_path):
    setup = setups("siamfc")
    uninterrupted = run(setup, 1, tmp_path / "reference_cache")
    config = setup.config("auto")  # a standalone run: WORKDIR/teacher_cache
    workdir = tmp_path / "run"
    config.train.exit_after_steps = 3  # killed after step 3: checkpoint 2, batches 0..2 cached
    train_job.run(config, str(workdir))
    cache_root = workdir / TC.AUTO_FOLDER
    before = files(cache_root)
    assert sorted(pathlib.Path(p).name for p in before) == [
        f"batch_00000000{i}.npz" for i in range(3)
    ]
    config.train.exit_after_steps = 0
    state = jax.device_get(train_job.run(config, str(workdir)))
    after = files(cache_root)
    assert {p: after[p] for p in before} == before  # batch 2 (step 3) read, not recomputed
    assert len(after) == STEPS
    ref_state = uninterrupted[0]
    for tree in ("params", "batch_stats", "opt_state"):
        for x, y in zip(
            jax.tree_util.tree_leaves(getattr(ref_state, tree)),
            jax.tree_util.tree_leaves(getattr(state, tree)),
            strict=True,
        ):
            np.testing.assert_array_equal(y, x, err_msg=tree)
    logged = {}
    for line in (workdir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        logged[row["step"]] = row  # the resumed run's line wins
    for step, metrics in enumerate(uninterrupted[1], 1):
        assert logged[step]["loss"] == float(metrics["loss"])


def test_off_auto_and_folder(tmp_path):
    config = default.get_config()
    assert config.distill.teacher_cache == "auto"
    assert TC.resolve_folder(config.distill.teacher_cache, tmp_path) == tmp_path / "teacher_cache"
    config.distill.teacher_cache = "off"
    assert TC.resolve_folder(config.distill.teacher_cache, tmp_path) is None
    config.distill.teacher_cache = str(tmp_path / "shared")
    assert (
        TC.resolve_folder(config.distill.teacher_cache, pathlib.Path("/elsewhere"))
        == tmp_path / "shared"
    )
    config.distill.teacher_cache = ""
    with pytest.raises(ConfigError, match="teacher_cache is empty"):
        TC.resolve_folder(config.distill.teacher_cache, tmp_path)


def test_auto_skips_a_cache_that_would_be_huge(setups, tmp_path):
    setup = setups("siamfc")
    config = setup.config("auto")
    config.train.num_steps = 10**9  # 0.2 kB x 4 per step: 0.8 TB
    assert (
        TC.open_for_run(RunSettings.from_config(config), tmp_path, setup.plan, setup.teachers["a"])
        is None
    )
    config.distill.teacher_cache = str(tmp_path / "forced")
    assert (
        TC.open_for_run(RunSettings.from_config(config), tmp_path, setup.plan, setup.teachers["a"])
        is not None
    )


def test_pipeline_and_ablation_share_one_cache_folder(tmp_path):
    config = default.get_config()
    stages = {s.name: s for s in pipeline.make_stages(config)}
    dirs = {name: str(tmp_path / name) for name in stages}
    override = stages["students"].overrides["distill.teacher_cache"]
    assert override(dirs) == str(tmp_path / "teacher_cache")
    assert "distill.teacher_cache" not in stages["scratch"].overrides

    sweep = ablation_config.get_config()
    runs = ablation.expand(sweep, "configs/ablation.py")
    st = ablation.make_stages(sweep, runs)
    dirs = {s.name: str(tmp_path / s.name) for s in st}
    folders = {s.overrides["distill.teacher_cache"](dirs) for s in st if s.mode == "distill"}
    assert folders == {str(tmp_path / "teacher_cache")}
    sweep.distill.teacher_cache = "off"
    st = ablation.make_stages(sweep, runs)
    assert all("distill.teacher_cache" not in s.overrides for s in st)
