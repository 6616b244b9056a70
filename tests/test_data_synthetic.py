"""Synthetic data: deterministic, splits differ, boxes match the rendered target, and the
GOT-10k folder it writes reads back (our reader, the got10k toolkit, the CLI)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from data_pipelines import synthetic
from data_pipelines.sequences import read_sequences
from data_pipelines.synthetic import scene as scene_lib
from dsiam_jax.errors import InputFileError

SMALL = {"sequence_length": 6, "frame_size": (80, 64)}


def test_deterministic_for_a_seed_and_splits_differ():
    a = read_sequences("synthetic", "", "train", num_sequences=3, seed=5, **SMALL)
    b = synthetic.make_sequences("train", num_sequences=2, seed=5, **SMALL)  # prefix is stable
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.boxes, y.boxes)
        np.testing.assert_array_equal(x.load_frame(4), y.load_frame(4))
    assert a[0].load_frame(2).shape == (64, 80, 3) and a[0].load_frame(2).dtype == np.uint8
    test = synthetic.make_sequences("test", num_sequences=3, seed=5, **SMALL)
    other_seed = synthetic.make_sequences("train", num_sequences=3, seed=6, **SMALL)
    for seqs in (test, other_seed):
        assert all(not np.allclose(x.boxes, y.boxes) for x, y in zip(a, seqs))
        assert not np.array_equal(a[0].load_frame(0), seqs[0].load_frame(0))


def test_boxes_are_sane_and_inside_the_frame():
    seqs = synthetic.make_sequences("val", num_sequences=6, seed=0, sequence_length=20)
    for seq in seqs:
        x, y, w, h = seq.boxes.T
        assert (x >= 0).all() and (y >= 0).all() and (x + w <= 320).all() and (y + h <= 240).all()
        assert (w[seq.visible] > 2).all() and (h[seq.visible] > 2).all()
        assert seq.visible.mean() > 0.5
        assert ((seq.meta["cover"] >= 0) & (seq.meta["cover"] <= 8)).all()


def test_rendered_target_covers_its_box():
    """An opaque white target with every other effect off lands exactly on the box."""
    scene = synthetic.make_scene("train", 3, sequence_length=5, frame_size=(96, 80), seed=1)
    mask = np.ones((10, 14), np.float32)
    white = np.concatenate([np.full((10, 14, 3), 255.0), np.full((10, 14, 1), 255.0)], -1)
    from PIL import Image

    sprite = scene_lib.Sprite(Image.fromarray(white.astype(np.uint8), "RGBa"), mask)
    target = dataclasses.replace(scene.target, sprite=sprite, gain=np.ones(5))
    plain = dataclasses.replace(
        scene, target=target, distractors=[], occluders=[], light=np.ones(5),
        blur=np.zeros(5), noise=np.zeros(5), background="text",
    )  # fmt: skip
    for t in range(5):
        frame = scene_lib.render(plain, t).astype(np.float32)
        x, y, w, h = plain.target.boxes[t]
        # coverage of each pixel column/row by the box, from the box alone
        cols = np.clip(np.minimum(np.arange(96) + 1, x + w) - np.maximum(np.arange(96), x), 0, 1)
        rows = np.clip(np.minimum(np.arange(80) + 1, y + h) - np.maximum(np.arange(80), y), 0, 1)
        inside = rows[:, None] * cols[None, :]
        full = inside > 0.999
        assert full.sum() > 20
        np.testing.assert_allclose(frame[full], 255.0, atol=1.0)
        # pixels the box does not touch keep the background (not white sprite)
        bg = scene_lib.render(
            dataclasses.replace(plain, target=dataclasses.replace(target, gain=np.zeros(5))), t
        )
        np.testing.assert_array_equal(frame[inside == 0], bg.astype(np.float32)[inside == 0])


def test_write_got10k_reads_back(tmp_path):
    written = synthetic.write_got10k(
        tmp_path, seed=2, num_sequences={"train": 2, "val": 1, "test": 1}, **SMALL
    )
    assert written["train"] == ["GOT-10k_Train_000001", "GOT-10k_Train_000002"]
    assert "CC-BY 2.0" in (tmp_path / "ATTRIBUTION.txt").read_text()
    mem = synthetic.make_sequences("train", num_sequences=2, seed=2, **SMALL)
    disk = read_sequences("got10k", str(tmp_path), "train")
    for m, d in zip(mem, disk):
        np.testing.assert_allclose(d.boxes, m.boxes, atol=6e-5)  # 4 decimals
        np.testing.assert_array_equal(d.visible, m.visible)
        np.testing.assert_array_equal(d.meta["cover"], m.meta["cover"])
        assert d.image_size == (80, 64)
        jpeg, exact = d.load_frame(3).astype(float), m.load_frame(3).astype(float)
        assert np.abs(jpeg - exact).mean() < 8  # JPEG at quality 90, 4:2:0, on a noisy frame
        assert abs(jpeg.mean() - exact.mean()) < 1
        assert np.corrcoef(jpeg.ravel(), exact.ravel())[0, 1] > 0.95
    test = read_sequences("got10k", str(tmp_path), "test")[0]
    assert np.isfinite(test.boxes).all()  # the synthetic test split keeps every box
    toolkit = pytest.importorskip("got10k.datasets")
    for subset in ("train", "val"):
        ref = toolkit.GOT10k(str(tmp_path), subset=subset, return_meta=True)
        ours = read_sequences("got10k", str(tmp_path), subset)
        for k, seq in enumerate(ours):
            files, anno, meta = ref[k]
            assert files == seq.frames
            np.testing.assert_allclose(anno, seq.boxes)
            np.testing.assert_array_equal(meta["absence"] == 0, seq.visible)
    with pytest.raises(InputFileError, match="already holds a dataset"):
        synthetic.write_got10k(tmp_path, seed=2, splits=("val",), num_sequences=1, **SMALL)


def test_write_synthetic_cli(cli, tmp_path):
    proc = cli(
        "--config=configs/default.py",
        "--config.mode=write_synthetic",
        "--config.data.synthetic.num_sequences=2",
        "--config.data.synthetic.sequence_length=3",
        "--config.data.synthetic.frame_size=(64,48)",
        f"--workdir={tmp_path}",
    )
    root = tmp_path / "synthetic_got10k"
    assert "wrote synthetic GOT-10k data" in proc.stdout
    assert len(read_sequences("got10k", str(root), "train")) == 2
    assert len(read_sequences("got10k", str(root), "test")) == 1
