"""Student search (SPEC section 3): reward, search space, policy, and a tiny CLI search.

References are independent: rewards and sizes computed by hand in the test, a toy
problem whose best channel list is known, and for the CLI search an uninterrupted
run against a killed-and-resumed one.
"""

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from configs import dstfc, student_search
from dsiam_jax import checkpoints as C
from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import search_comparison
from dsiam_jax.jobs import student_search as job
from dsiam_jax.jobs import train as train_job
from dsiam_jax.student_search import fragment, plots, space
from dsiam_jax.student_search import reward as R
from dsiam_jax.student_search.policy import Policy

SIAMFC = M.teacher_spec("siamfc")
TINY_TEACHER = SIAMFC.replace(channels=(16, 32, 32, 32, 32))


def test_reward_by_hand():
    c = R.compression(250, 1000)
    assert c == pytest.approx(0.75)
    # C (2 - C) = 0.75 * 1.25 = 0.9375; A_s / A_t = 0.4 / 0.5 = 0.8 -> 0.75
    assert R.reward(c, 0.4, 0.5) == pytest.approx(0.75)
    assert R.n2n_reward(0.0, 0.5, 0.5) == 0.0  # the teacher itself: no compression, no reward
    # speed term: 10 frames/s against a target of 20, weight 1 -> times 0.5; weight 2 -> 0.25
    fast = R.RewardSettings(target_fps=20.0)
    assert R.reward(c, 0.4, 0.5, fast, fps=10.0) == pytest.approx(0.375)
    assert R.reward(c, 0.4, 0.5, fast, fps=25.0) == pytest.approx(0.75)  # over the target
    squared = R.RewardSettings(target_fps=20.0, speed_weight=2.0)
    assert R.reward(c, 0.4, 0.5, squared, fps=10.0) == pytest.approx(0.1875)
    # constraints
    assert R.reward(c, 0.4, 0.5, R.RewardSettings(min_fps=15.0), fps=10.0) == -1.0
    assert R.size_violation(2.0, 0.9, R.RewardSettings(max_megabytes=1.5))
    assert R.size_violation(1.0, 0.5, R.RewardSettings(min_compression=0.6))
    assert not R.size_violation(1.0, 0.7, R.RewardSettings(max_megabytes=1.5, min_compression=0.6))
    with pytest.raises(ConfigError):
        R.RewardSettings(min_compression=1.0)


def alexnet_params(channels, groups, final_bn=False):
    """SiamFC parameters by hand: conv weights + biases, BatchNorm scale/bias after
    conv1-4 (and conv5 with final_bn), one response bias."""
    kernels, cin, total = (11, 5, 3, 3, 3), 3, 1
    for i, (k, cout, g) in enumerate(zip(kernels, channels, groups)):
        total += k * k * (cin // g) * cout + cout + (2 * cout if i < 4 or final_bn else 0)
        cin = cout
    return total


def test_candidates_rounding_size_and_validity():
    layers = space.prunable_layers(SIAMFC)
    assert [(layer.name, layer.out_channels, layer.groups) for layer in layers] == [
        ("conv1", 96, 1),
        ("conv2", 256, 2),
        ("conv3", 384, 1),
        ("conv4", 384, 2),
        ("conv5", 256, 2),
    ]
    half = space.RATIOS.index(0.5)
    cand = space.candidate_from_actions(SIAMFC, [half] * 5)
    assert cand.channels == (48, 128, 192, 192, 128) and cand.valid
    assert cand.params == alexnet_params(cand.channels, SIAMFC.groups)
    assert space.teacher_params(SIAMFC) == alexnet_params(SIAMFC.channels, SIAMFC.groups)
    assert cand.megabytes == pytest.approx(cand.params * 4 / 1e6)
    assert cand.compression == pytest.approx(1 - cand.params / space.teacher_params(SIAMFC))
    # ratio 0.3: 96 * 0.3 = 28.8 -> 28 (nearest even), 256 * 0.3 = 76.8 -> 76, 384 -> 115.2 -> 116
    r03 = space.RATIOS.index(0.3)
    assert space.candidate_from_actions(SIAMFC, [r03] * 5).channels == (28, 76, 116, 116, 76)
    # with multiple 1 the widths are 29, 77, 115: odd widths break the grouped convs
    odd = space.candidate_from_actions(SIAMFC, [r03] * 5, multiple=1)
    assert odd.channels == (29, 77, 115, 115, 77) and not odd.valid
    assert "groups" in odd.invalid_reason and odd.params == 0
    # the smallest ratio never makes a zero width: 96 * 0.1 = 9.6 -> 10, at least 2
    tiny = space.candidate_from_actions(TINY_TEACHER, [0] * 5)
    assert tiny.channels == (2, 4, 4, 4, 4)


def test_siamrpn_head_is_a_prunable_layer():
    rpn = M.teacher_spec("siamrpn")
    layers = space.prunable_layers(rpn)
    assert [layer.name for layer in layers][-1] == "head" and len(layers) == 6
    quarter = space.RATIOS.index(0.25)
    cand = space.candidate_from_actions(rpn, [quarter] * 5 + [space.RATIOS.index(0.5)])
    assert cand.channels == (48, 128, 192, 192, 128) and cand.head_channels == 256
    assert cand.spec.rpn_channels == 256 and cand.key.endswith("_h256")


def test_invalid_and_oversized_candidates_get_minus_one_without_a_proxy():
    config = student_search.get_config("tiny")
    odd = space.candidate_from_actions(SIAMFC, [3] * 5, multiple=1)
    setup = None  # a proxy run would need it: these candidates must not get there
    record = job.score(config, None, setup, odd, 0)
    assert record["reward"] == -1.0 and "groups" in record["invalid"]
    config.search.max_megabytes = 1.0
    big = space.candidate_from_actions(SIAMFC, [10] * 5)  # the teacher itself, 9.4 MB
    record = job.score(config, None, setup, big, 0)
    assert record["reward"] == -1.0 and "max_megabytes" in record["invalid"]


def test_uniform_candidate_of_equal_size():
    target = space.candidate_from_actions(SIAMFC, [1, 7, 4, 2, 9])
    u = space.uniform_candidate(SIAMFC, target.params)
    assert len(set(u.ratios)) == 1
    assert abs(u.params - target.params) / target.params < 0.05


def test_policy_finds_the_best_widths_of_a_toy_reward():
    # reward depends only on the channel list: 1 - mean relative distance to a known best
    best = space.candidate_from_actions(SIAMFC, [1, 3, 5, 7, 9])
    want = np.asarray(best.channels, float)

    def toy_reward(actions):
        c = np.asarray(space.candidate_from_actions(SIAMFC, actions).channels, float)
        return 1.0 - np.mean(np.abs(c - want) / want)

    policy = Policy(
        space.prunable_layers(SIAMFC), len(space.RATIOS), learning_rate=0.02, entropy_weight=0.01
    )
    state = policy.init(0)
    for _ in range(150):
        actions = policy.sample(state, 16)
        state, _ = policy.update(state, actions, np.asarray([toy_reward(a) for a in actions]))
    assert policy.greedy(state).tolist() == [1, 3, 5, 7, 9]
    # the saved state restores the same policy (same draws at the same iteration)
    restored = policy.from_bytes(policy.to_bytes(state))
    assert int(restored.iteration) == 150
    np.testing.assert_array_equal(policy.sample(restored, 4), policy.sample(state, 4))


def test_comparison_verdict_and_pairing_by_hand():
    a = {
        "sequences": {
            "s1": {"success_auc": 0.5},
            "s2": {"success_auc": 0.7},
            "s3": {"success_auc": None},
        }
    }
    b = {
        "sequences": {
            "s1": {"success_auc": 0.4},
            "s2": {"success_auc": 0.4},
            "s3": {"success_auc": 0.1},
        }
    }
    mean, se, n = search_comparison.paired_by_sequence(a, b)
    assert n == 2 and mean == pytest.approx(0.2)  # (0.1 + 0.3) / 2
    assert se == pytest.approx(np.std([0.1, 0.3], ddof=1) / np.sqrt(2))  # 0.1
    assert "**better**" in search_comparison.verdict(
        {"mean": 0.3, "standard_error": 0.1, "basis": "x"}
    )
    assert "not distinguishable" in search_comparison.verdict(
        {"mean": 0.2, "standard_error": 0.1, "basis": "x"}
    )
    assert "too few" in search_comparison.verdict(
        {"mean": 0.2, "standard_error": float("nan"), "basis": "x"}
    )


def test_pareto_front():
    # (size, accuracy): (3, 0.5) is beaten by (2, 0.6); (1, 0.2) and (4, 0.9) are extremes
    points = [(1, 0.2), (2, 0.6), (3, 0.5), (4, 0.9), (4, 0.8)]
    assert plots.pareto_front(points) == [0, 1, 3]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny SiamFC teacher checkpoint with random weights."""
    folder = tmp_path_factory.mktemp("teacher")
    store = C.CheckpointStore(folder)
    variables = M.numpy_variables(TINY_TEACHER, 0, random_batchnorm=True)
    store.save(1, {"teacher": C.TrackerModel("teacher", TINY_TEACHER, variables, "teacher")})
    store.close()
    return folder


def test_distillation_takes_the_student_fragment(teacher, tmp_path):
    path = fragment.write_student(
        tmp_path / "student.py",
        fragment.SearchedStudent("siamfc", (8, 16, 8, 16, 16), 0),
        {"reward": 0.5, "teacher": {"channels": [48, 128, 192, 192, 128], "note": "x " * 60}},
    )
    # a file ruff accepts when committed: double quotes, lines (but the path's) within
    # its length
    text = path.read_text()
    lines = [line for line in text.splitlines() if "students_from=" not in line]
    assert 'KIND = "siamfc"' in text and max(map(len, lines)) <= 100
    assert "        channels: [48, 128, 192, 192, 128]" in text
    config = dstfc.get_config()
    config.teacher.checkpoint = str(teacher)
    config.distill.students_from = str(path)
    plan, _ = train_job.build_plan(config)
    assert [plan.specs[n].channels for n in plan.names] == [(8, 16, 8, 16, 16)] * 2
    config.model.kind = "siamrpn"  # a SiamFC fragment for a SiamRPN run is refused
    with pytest.raises(ConfigError):
        fragment.students_for(str(path), "siamrpn", 2)


SEARCH_FLAGS = (
    "--config=configs/student_search.py:tiny",
    "--config.search.iterations=2",
    "--config.search.candidates_per_iteration=1",
    "--config.search.compare_uniform=off",
    "--config.data.synthetic.num_sequences=16",
)


def test_tiny_search_from_the_cli_resumes_to_the_same_result(fast_subprocesses, teacher, tmp_path):
    work = tmp_path / "search"
    flags = (*SEARCH_FLAGS, f"--config.teacher.checkpoint={teacher}", f"--workdir={work}")
    run_cli(*flags, "--config.search.exit_after_iterations=1")  # "killed" after iteration 1
    assert (work / "policy.msgpack").is_file() and not (work / "search.json").exists()
    run_cli(*flags)  # continues at iteration 2
    resumed = json.loads((work / "search.json").read_text())
    assert [it["iteration"] for it in resumed["iterations"]] == [0, 1]

    # the same search uninterrupted, its proxy runs read from the first one's results
    again = tmp_path / "again"
    shutil.copytree(work, again)
    for name in ("policy.msgpack", "search_state.json", "search.json", "config.json"):
        (again / name).unlink()
    run_cli(*SEARCH_FLAGS, f"--config.teacher.checkpoint={teacher}", f"--workdir={again}")
    fresh = json.loads((again / "search.json").read_text())
    drop = lambda recs: [{k: v for k, v in r.items() if k != "cached"} for r in recs]  # noqa: E731
    assert drop(fresh["candidates"]) == drop(resumed["candidates"])
    for a, b in zip(fresh["iterations"], resumed["iterations"], strict=True):
        assert a["rewards"] == b["rewards"] and a["baseline"] == b["baseline"]
        assert a["loss"] == pytest.approx(b["loss"])

    for rec in resumed["candidates"]:
        assert rec["reward"] == -1.0 or rec["reward"] == pytest.approx(
            R.reward(rec["compression"], rec["auc"], resumed["teacher"]["auc"])
        )
    best = fragment.read_student(work / "student.py")
    assert list(best.channels) == resumed["best"]["channels"]
    config = dstfc.get_config()  # the distillation command takes the written student
    config.teacher.checkpoint = str(teacher)
    config.distill.students_from = str(work / "student.py")
    plan, _ = train_job.build_plan(config)
    assert plan.specs["student_0"].channels == best.channels
    assert (work / "reward_plot.png").stat().st_size > 1000

    # ablation (g): the best candidate against the uniform student of its size, on test
    comparison = json.loads((work / "comparison.json").read_text())
    assert comparison["searched"]["channels"] == resumed["best"]["channels"]
    uniform = comparison["uniform"]["channels"]
    ratio = uniform[1] / TINY_TEACHER.channels[1]  # one ratio for every layer
    assert uniform == [max(2, round(w * ratio / 2) * 2) for w in TINY_TEACHER.channels]
    evals = {
        role: json.loads((work / "compare" / f"{role}_seed0_eval" / "eval.json").read_text())
        for role in search_comparison.ROLES
    }
    seqs = {r: next(iter(e["trackers"].values()))["sequences"] for r, e in evals.items()}
    diffs = [
        seqs["searched"][n]["success_auc"] - seqs["uniform"][n]["success_auc"]
        for n in seqs["searched"]
    ]
    assert comparison["difference"]["mean"] == pytest.approx(np.mean(diffs))
    report = (work / "report.md").read_text()
    assert "| searched | " + "-".join(map(str, best.channels)) in report
    eval_config = json.loads((work / "compare" / "uniform_seed0_eval" / "config.json").read_text())
    assert eval_config["eval"]["root"].endswith("synthetic_got10k/test")  # never the val split
    assert (work / "accuracy_vs_size.png").stat().st_size > 1000
