"""notebooks/quickstart.ipynb runs headless (nbclient, a real IPython kernel) on CPU with
tiny settings and leaves what its cells promise: a teacher and two distilled students,
an evaluation with finite AUCs, ONNX graphs, a tracked clip and the displays of each.

The parameters cell (tagged `parameters`, as papermill reads it) keeps its defaults and
gets the tiny values appended, as papermill injects them; every injected name must be a
parameter of the notebook. No kernel, no nbclient: the tests fail, they do not skip.
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import time

import nbformat
import numpy as np
import onnx
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from data_pipelines.synthetic import make_sequences
from dsiam_jax import checkpoints as C

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "quickstart.ipynb"
TEACHER = (8, 16, 16, 16, 16)
STUDENTS = ((8, 16, 16, 16, 16), (8, 16, 16, 16, 8))
TINY = {
    "REPO_DIR": str(REPO_ROOT),
    "WORK_ROOT": "runs",  # relative: under the kernel's working directory (a tmp dir)
    "TEACHER_CHANNELS": TEACHER,
    "STUDENT_CHANNELS": STUDENTS,
    "TEACHER_STEPS": 4,
    "STUDENT_STEPS": 4,
    "BATCH_SIZE": 8,
    "TEMPLATE_SIZE": 103,
    "SEARCH_SIZE": 151,
    "EVAL_SEQUENCES": 2,
    "EVAL_SEQUENCE_LENGTH": 8,
    "EXPORT_VARIANTS": "fp32",
    "VIDEO_FRAMES": 8,
}
MODELS = ("siamfc_teacher", "student_0", "student_1")


def read_notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


def with_parameters(nb: nbformat.NotebookNode, values: dict) -> nbformat.NotebookNode:
    """`nb` with `values` assigned at the end of its parameters cell (papermill's way)."""
    cell = parameters_cell(nb)
    defined = {line.split("=")[0].strip() for line in cell.source.splitlines() if "=" in line}
    unknown = set(values) - defined
    assert not unknown, f"not parameters of the notebook: {sorted(unknown)}"
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    cell.source += "\n\n# injected by tests/test_notebook.py\n" + "\n".join(lines) + "\n"
    return nb


def cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    (found,) = [c for c in nb.cells if c.get("id") == cell_id]
    return found


def stream_text(c: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in c.get("outputs", []) if o.output_type == "stream")


def display_types(c: nbformat.NotebookNode) -> set[str]:
    """MIME types of a cell's display outputs."""
    return {
        mime
        for o in c.get("outputs", [])
        if o.output_type in ("display_data", "execute_result")
        for mime in o.data
    }


def execute(nb: nbformat.NotebookNode, cwd: pathlib.Path) -> nbformat.NotebookNode:
    """Runs every cell of `nb` in a fresh python3 kernel whose working directory is `cwd`."""
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


@pytest.fixture(scope="module")
def executed(fast_subprocesses, tmp_path_factory):
    """The notebook run with the tiny parameters; (executed notebook, RUNS folder, seconds)."""
    cwd = tmp_path_factory.mktemp("notebook_cwd")
    nb = with_parameters(read_notebook(), TINY)
    start = time.perf_counter()
    try:
        execute(nb, cwd)
    except CellExecutionError as e:
        failed = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")][-1]
        raise AssertionError(f"{e}\n--- cell output ---\n{stream_text(failed)[-4000:]}") from None
    return nb, cwd / "runs", time.perf_counter() - start


def test_notebook_is_stored_clean_with_a_parameters_cell():
    nb = read_notebook()
    nbformat.validate(nb)
    assert nb.nbformat == 4
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, c.id  # no stored outputs
    source = parameters_cell(nb).source
    for name in ("WORK_ROOT", "TEACHER_STEPS", "STUDENT_STEPS", "BATCH_SIZE", "EVAL_SEQUENCES"):
        assert f"\n{name} = " in f"\n{source}", name
    assert '\nDATASET = "synthetic"' in f"\n{source}"
    # Every code cell after the parameters is introduced by a markdown heading.
    cells = nb.cells
    for i, c in enumerate(cells):
        if c.cell_type == "code":
            assert cells[i - 1].cell_type == "markdown", c.id
            assert cells[i - 1].source.startswith("## "), c.id


def test_training_cells_leave_a_teacher_and_two_distilled_students(executed):
    nb, runs, seconds = executed
    print(f"notebook executed in {seconds:.1f} s")
    teacher = C.load_models(runs / "teacher")
    assert list(teacher) == ["siamfc_teacher"]
    assert teacher["siamfc_teacher"].spec.channels == TEACHER
    assert teacher["siamfc_teacher"].info["step"] == TINY["TEACHER_STEPS"]
    students = C.load_models(runs / "students")
    assert sorted(students) == ["student_0", "student_1"]
    for i, channels in enumerate(STUDENTS):
        s = students[f"student_{i}"]
        assert s.spec.channels == channels and s.role == "student"
        assert s.info["step"] == TINY["STUDENT_STEPS"] and s.info["teacher"] == "siamfc_teacher"
    # The jobs ran through the command line, their output shown in the cells (less other
    # libraries' INFO lines) and kept whole in RUNS/<workdir name>.log.
    shown = stream_text(cell(nb, "students"))
    assert "python -m dsiam_jax.main --config=configs/dstfc.py" in shown
    assert "step 4/4 (100%)" in shown and "checkpoint_manager.py" not in shown
    log = (runs / "students.log").read_text()
    assert "step 4/4 (100%)" in log and "checkpoint_manager.py" in log
    assert "platform cpu" in stream_text(cell(nb, "accelerator"))
    # Headless, TensorBoard only prints its command; the loss curves are drawn.
    board = cell(nb, "tensorboard")
    assert f"tensorboard --logdir {runs}" in stream_text(board)
    assert "image/png" in display_types(board)


def test_evaluation_has_finite_aucs_and_is_displayed(executed):
    nb, runs, _ = executed
    report = json.loads((runs / "eval" / "eval.json").read_text())
    assert set(report["trackers"]) == set(MODELS)
    truth = make_sequences("test", num_sequences=2, sequence_length=8)  # the evaluated scenes
    for name, entry in report["trackers"].items():
        assert np.isfinite(entry["success_auc"]) and 0.0 <= entry["success_auc"] <= 1.0, name
        assert sorted(entry["sequences"]) == [s.name for s in truth]
        for seq in truth:
            boxes = np.loadtxt(runs / "eval" / "results" / name / f"{seq.name}.txt", delimiter=",")
            assert boxes.shape == (8, 4)
            np.testing.assert_allclose(boxes[0], seq.boxes[0], atol=1e-3)  # frame 1 = gt
    shown = cell(nb, "evaluate")
    assert {"text/markdown", "image/png"} <= display_types(shown)
    markdown = "".join(o.data.get("text/markdown", "") for o in shown.outputs if "data" in o)
    for name in MODELS:
        assert f"| {name} |" in markdown


def test_export_writes_valid_onnx_graphs(executed):
    _, runs, _ = executed
    for student in ("student_0", "student_1"):
        for graph in ("template.onnx", "track.onnx"):
            onnx.checker.check_model(onnx.load(runs / "export" / student / graph))
    summary = (runs / "export" / "export.json").read_text()
    assert "student_0" in summary and "student_1" in summary


def test_tracking_cell_tracks_the_clip_and_shows_it(executed):
    nb, runs, _ = executed
    (clip,) = make_sequences("test", num_sequences=1, sequence_length=8, seed=1)
    summary = json.loads((runs / "track" / "track.json").read_text())
    assert summary["frames"] == 8 and set(summary["models"]) == set(MODELS)
    for name in MODELS:
        boxes = np.loadtxt(runs / "track" / "tracks" / f"{name}.txt", delimiter=",")
        assert boxes.shape == (8, 4) and np.all(np.isfinite(boxes))
        np.testing.assert_allclose(boxes[0], clip.boxes[0], atol=0.01)  # init box, 2 decimals
    assert pathlib.Path(summary["annotated"]).stat().st_size > 0
    assert {"image/png", "text/html"} <= display_types(cell(nb, "track"))  # frames, video


def test_a_failing_job_stops_the_notebook(fast_subprocesses, tmp_path):
    nb = with_parameters(
        read_notebook(),
        {**TINY, "TEACHER_CHANNELS": (8, 16, 16, 16)},  # 4 widths: invalid
    )
    with pytest.raises(CellExecutionError, match="CalledProcessError"):
        execute(nb, tmp_path)
    teacher = cell(nb, "teacher")
    assert "error:" in stream_text(teacher) and "Traceback" not in stream_text(teacher)
    assert not cell(nb, "students").get("outputs")  # never ran
    assert not (tmp_path / "runs" / "students").exists()


def test_got10k_cell_switches_the_data_and_checks_the_folder(tmp_path):
    """Only the parameter, setup and data cells (no jobs): the flags of a GOT-10k folder,
    a clear error for a folder without list.txt, and the JAX pin the Colab install reads."""
    root = tmp_path / "GOT-10k"
    for split in ("train", "val"):
        (root / split).mkdir(parents=True)
        (root / split / "list.txt").write_text("GOT-10k_Train_000001\n")
    nb = with_parameters(read_notebook(), {**TINY, "DATASET": "got10k", "GOT10K_ROOT": str(root)})
    probe = nbformat.v4.new_code_cell(
        "import json\n"
        'print(json.dumps([TRAIN_DATA, EVAL_DATA, pinned("jax", REPO / "requirements.txt")]))'
    )
    nb.cells = [cell(nb, "parameters"), cell(nb, "setup"), cell(nb, "data"), probe]
    execute(nb, tmp_path)
    train, evaluation, jax_pin = json.loads(stream_text(probe))
    assert jax_pin == importlib.metadata.version("jax")  # the install step's JAX build
    assert train == ["--config.data.layout=got10k", f"--config.data.root={root}"]
    assert evaluation == [
        "--config.eval.layout=got10k",
        f"--config.eval.root={root}",
        "--config.eval.split=val",
        "--config.eval.max_sequences=2",
    ]
    (root / "val" / "list.txt").unlink()
    nb.cells = nb.cells[:3]
    for c in nb.cells:
        c.outputs = []
    with pytest.raises(CellExecutionError, match="no list.txt"):
        execute(nb, tmp_path)
