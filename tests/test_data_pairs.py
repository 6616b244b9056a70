"""The pair pipeline: shapes, exact resumability, agreement with the NumPy reference, the
box mapped back through the crop, corrupt frames, filtering, mixtures, sharded batches."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest
from test_data_fixtures import GREY, small_config, write_got10k

from data_pipelines import pairs, sampling, sources
from data_pipelines.sequences import DatasetError
from dsiam_jax import crops, parallel
from dsiam_jax.errors import ConfigError


def no_photometric(d):
    d.augment.color, d.augment.blur_prob, d.augment.gray_prob = 0.0, 0.0, 0.0
    return d


def take(data, n, **kwargs):
    return list(itertools.islice(pairs.local_batches(data, **kwargs), n))


def test_batches_shapes_and_dtypes():
    d = small_config(negative_prob=0.5)
    (batch,) = take(d, 1, seed=0, global_batch_size=4)
    assert batch["template"].shape == (4, 31, 31, 3) and batch["template"].dtype == np.uint8
    assert batch["search"].shape == (4, 63, 63, 3) and batch["search"].dtype == np.uint8
    assert batch["box"].shape == (4, 4) and batch["box"].dtype == np.float32
    assert batch["negative"].shape == (4,) and batch["negative"].dtype == bool


def test_exact_resume_and_process_split():
    d = small_config(negative_prob=0.3, **{"augment.flip_prob": 0.5, "augment.blur_prob": 0.5})
    full = take(d, 3, seed=7, global_batch_size=4)
    resumed = take(d, 1, seed=7, global_batch_size=4, start_step=2)
    halves = [
        take(d, 3, seed=7, global_batch_size=4, process_index=p, process_count=2)[2] for p in (0, 1)
    ]
    for key in full[2]:
        np.testing.assert_array_equal(resumed[0][key], full[2][key])
        np.testing.assert_array_equal(np.concatenate([h[key] for h in halves]), full[2][key])
    assert not np.array_equal(full[0]["search"], full[1]["search"])
    other_seed = take(d, 1, seed=8, global_batch_size=4)[0]
    assert not np.array_equal(other_seed["box"], full[0]["box"])


def test_tf_pipeline_equals_numpy_reference():
    d = no_photometric(small_config(negative_prob=0.25, **{"augment.flip_prob": 0.5}))
    sampler = pairs.make_sampler(d, seed=3)
    (batch,) = take(d, 1, seed=3, global_batch_size=4, sampler=sampler)
    for b in range(4):
        ref = sampling.pair_numpy(sampler, b)
        np.testing.assert_allclose(batch["box"][b], ref["box"], rtol=1e-5, atol=1e-3)
        assert batch["negative"][b] == ref["negative"]
        for key in ("template", "search"):  # uint8 rounding of float32 vs float64 crops
            diff = np.abs(batch[key][b].astype(int) - ref[key].astype(int))
            assert diff.max() <= 1 and diff.mean() < 0.05


@pytest.mark.parametrize("zoom", [1, 4])  # 4: 256x192 frames, decoded at 1/4 scale
def test_box_maps_back_onto_ground_truth(tmp_path, zoom):
    seqs = {k: v * zoom for k, v in write_got10k(tmp_path / "probe", "train").items()}
    write_got10k(tmp_path, "train", seqs, size=(64 * zoom, 48 * zoom))
    # The Python path: its batches are `sampler.sample`'s pairs (test_graph_pairs: graph path).
    d = no_photometric(small_config(layout="got10k", root=str(tmp_path), max_gap=2))
    d.pipeline = "python"
    d.augment.flip_prob = 0.5
    sampler = pairs.make_sampler(d, seed=1)
    (batch,) = take(d, 1, seed=1, global_batch_size=8, sampler=sampler)
    flips = 0
    for b in range(8):
        pair = sampler.sample(b)
        box = batch["box"][b].astype(np.float64)
        if pair.flip:
            box[0] = d.search_size - box[0] - box[2]
            flips += 1
        red = pair.search_reduction
        assert (red > 1) == (zoom > 1) and pair.search_image.shape[1] * red == 64 * zoom
        back = crops.crop_to_box(box, pair.search_center, pair.search_side, d.search_size)
        np.testing.assert_allclose(back, pair.search_box, atol=1e-3)
        frame = int(pair.frames[1].rsplit("#", 1)[1])
        name = pair.frames[1].split("/")[1].split("#")[0]
        np.testing.assert_allclose(back * red, seqs[name][frame], atol=1e-3)  # ground truth
        # and independently: the white target in the search crop is where the box says
        bright = np.argwhere(batch["search"][b].mean(-1) > (GREY + 255) / 2)
        (y0, x0), (y1, x1) = bright.min(0), bright.max(0) + 1
        np.testing.assert_allclose([x0, y0, x1 - x0, y1 - y0], batch["box"][b], atol=1.6)
    assert 0 < flips < 8


def test_corrupt_frame_is_skipped_and_counted(tmp_path, caplog):
    write_got10k(tmp_path, "train")
    bad = tmp_path / "train" / "GOT-10k_Train_000001" / "00000002.jpg"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated JPEG
    sampling.SKIPPED.reset()
    d = small_config(layout="got10k", root=str(tmp_path))
    batches = take(d, 4, seed=0, global_batch_size=8)
    assert len(batches) == 4
    stats = pairs.skipped_frames()
    assert stats["count"] >= 1 and stats["paths"] == [str(bad)]
    assert f"skipping frame {bad}" in caplog.text
    again = take(d, 4, seed=0, global_batch_size=8)  # deterministic despite the skip cache
    for x, y in zip(batches, again):
        np.testing.assert_array_equal(x["search"], y["search"])


def test_all_frames_unreadable_is_a_clear_error(tmp_path):
    write_got10k(tmp_path, "train")
    for f in (tmp_path / "train").glob("*/*.jpg"):
        f.write_bytes(b"not a jpeg")
    d = small_config(layout="got10k", root=str(tmp_path), max_attempts=4)
    with pytest.raises(DatasetError, match="no readable pair"):
        take(d, 1, seed=0, global_batch_size=2)


def test_invalid_boxes_and_invisible_frames_are_never_sampled(tmp_path):
    ok, zero, negative, nan = [10, 8, 20, 16], [10, 8, 0, 16], [10, 8, -5, 16], [np.nan] * 4
    outside, absent, ok2 = [200, 8, 20, 16], [12, 8, 20, 16], [14, 8, 20, 16]
    boxes = np.array([ok, zero, negative, nan, outside, absent, ok2])
    write_got10k(tmp_path, "train", {"s": boxes}, absent={"s": [5]})
    d = small_config(layout="got10k", root=str(tmp_path))
    sampler = pairs.make_sampler(d, seed=0)
    used = {int(f.rsplit("#", 1)[1]) for i in range(60) for f in sampler.sample(i).frames}
    assert used == {0, 6}
    # Without a known frame size the out-of-image box is caught once decoded, and skipped.
    (tmp_path / "train" / "s" / "meta_info.ini").unlink()
    sampling.SKIPPED.reset()
    sampler = pairs.make_sampler(d, seed=0)
    used = {int(f.rsplit("#", 1)[1]) for i in range(60) for f in sampler.sample(i).frames}
    stats = pairs.skipped_frames()
    assert used == {0, 6} and stats["count"] > 0 and stats["paths"] == []
    assert stats["bad_box_paths"] == [str(tmp_path / "train/s/00000005.jpg")]
    write_got10k(tmp_path / "none", "train", {"s": boxes[1:5]})
    with pytest.raises(DatasetError, match="no sequence has a visible, sane box"):
        pairs.make_sampler(small_config(layout="got10k", root=str(tmp_path / "none")), seed=0)


def test_mixture_weights_and_parsing(tmp_path):
    assert sources.parse_mixture("got10k:/a:b:2,lasot/test:/c", "train") == [
        ("got10k", "train", "/a:b", 2.0),
        ("lasot", "test", "/c", 1.0),
    ]
    with pytest.raises(ConfigError, match="unknown layout"):
        sources.parse_mixture("kitti:/x:1", "")
    write_got10k(tmp_path, "train")
    d = small_config(mixture=f"got10k:{tmp_path}:3,synthetic::1")
    sampler = pairs.make_sampler(d, seed=0)
    picks = [sampler.sample(i).frames[0].split("/")[0] for i in range(200)]
    assert 0.65 < picks.count("got10k") / 200 < 0.85  # expected 0.75
    d.negative_prob = 1.0
    (batch,) = take(d, 1, seed=0, global_batch_size=4)
    assert batch["negative"].all()


def test_train_batches_are_global_arrays_sharded_over_data():
    mesh = parallel.data_mesh()
    d = small_config()
    it = pairs.train_batches(d, seed=0, global_batch_size=8, mesh=mesh)
    batch = next(it)
    (local,) = take(d, 1, seed=0, global_batch_size=8)
    assert jax.device_count() == 4
    for key, value in batch.items():
        assert isinstance(value, jax.Array) and value.shape == local[key].shape
        assert value.sharding.is_equivalent_to(parallel.batch_sharding(mesh), value.ndim)
        assert len(value.addressable_shards) == 4
        assert value.addressable_shards[1].data.shape[0] == 2
        np.testing.assert_array_equal(np.asarray(value), local[key])
    it.close()
    with pytest.raises(ConfigError, match="not divisible by 4 devices"):
        next(pairs.train_batches(d, seed=0, global_batch_size=6, mesh=mesh))
