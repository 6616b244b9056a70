"""The graph path of the pair pipeline (`data_pipelines.graph_pairs`): example g a pure
function of (seed, g) across runs, restarts and process counts; its crops equal the NumPy
reference for the geometry it drew; its draws follow the sampling rules; unreadable
frames and boxes outside the frame are skipped, counted and keep the output fixed."""

from __future__ import annotations

import itertools
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from test_data_fixtures import GREY, box_lines, small_config, write_frames, write_got10k

from data_pipelines import graph_pairs, pairs, sampling
from dsiam_jax import crops
from dsiam_jax.errors import ConfigError


def graph_config(root, **overrides):
    d = small_config(**{"layout": "got10k", "root": str(root), "pipeline": "graph", **overrides})
    d.augment.color, d.augment.blur_prob, d.augment.gray_prob = 0.0, 0.0, 0.0
    return d


def take(data, n, **kwargs):
    return list(itertools.islice(pairs.local_batches(data, **kwargs), n))


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)


def long_sequences(n=12):
    """Two sequences of `n` frames with a moving box (64x48 frames)."""
    i = np.arange(n, dtype=float)[:, None]
    return {
        "GOT-10k_Train_000001": np.hstack([10 + i, 8 + 0.5 * i, 20 + 0 * i, 16 + 0 * i]),
        "GOT-10k_Train_000002": np.hstack([30 - i, 20 + 0 * i, 12 + 0 * i, 14 + 0 * i]),
    }


def test_example_is_a_pure_function_of_seed_and_index(tmp_path):
    write_got10k(tmp_path, "train")
    d = small_config(layout="got10k", root=str(tmp_path), negative_prob=0.3)
    d.augment.flip_prob, d.augment.blur_prob, d.augment.gray_prob = 0.5, 0.5, 0.3
    assert d.pipeline == "auto"  # files: the graph path
    full = take(d, 3, seed=7, global_batch_size=4)
    assert_same_batches(take(d, 1, seed=7, global_batch_size=4, start_step=2), full[2:])
    halves = [
        take(d, 3, seed=7, global_batch_size=4, process_index=p, process_count=2) for p in (0, 1)
    ]
    union = [{k: np.concatenate([h[s][k] for h in halves]) for k in full[0]} for s in range(3)]
    assert_same_batches(union, full)
    d.num_parallel_calls = 1  # another run, with other timing: the same examples
    assert_same_batches(take(d, 3, seed=7, global_batch_size=4), full)
    assert not np.array_equal(full[0]["search"], full[1]["search"])
    assert not np.array_equal(take(d, 1, seed=8, global_batch_size=4)[0]["box"], full[0]["box"])
    # ... and the same as the graph ops run eagerly, outside tf.data.
    graph = graph_pairs.GraphPairs(pairs.make_sampler(d, seed=7))
    for g in (0, 9):
        eager = graph.attempt_example(tf.constant(g, tf.int64), tf.constant(0, tf.int64))
        for key in ("template", "search", "box", "negative"):
            np.testing.assert_array_equal(eager[key].numpy(), full[g // 4][key][g % 4])


# zoom 4: 256x192 frames, JPEGs decoded at 1/2 to 1/8 scale, PNGs at full size
@pytest.mark.parametrize("zoom,suffix", [(1, "jpg"), (4, "jpg"), (4, "png")])
def test_crops_equal_the_numpy_reference_for_the_drawn_geometry(tmp_path, zoom, suffix):
    seqs = {k: v * zoom for k, v in long_sequences().items()}
    if suffix == "jpg":
        write_got10k(tmp_path, "train", seqs, size=(64 * zoom, 48 * zoom))
        d = graph_config(tmp_path, max_gap=3)
    else:
        for name, boxes in seqs.items():
            names = [f"{i + 1:08d}.png" for i in range(len(boxes))]
            write_frames(tmp_path / name, names, (64 * zoom, 48 * zoom), boxes)
            (tmp_path / name / "groundtruth.txt").write_text(box_lines(boxes))
        d = graph_config(tmp_path, layout="folder", max_gap=3)
    d.augment.flip_prob = 0.5
    sampler = pairs.make_sampler(d, seed=1)
    graph = graph_pairs.GraphPairs(sampler)
    (batch,) = take(d, 1, seed=1, global_batch_size=8, sampler=sampler)
    flips, reductions = 0, set()
    for b in range(8):
        index, attempt = tf.constant(b, tf.int64), tf.constant(0, tf.int64)
        p = {k: v.numpy() for k, v in graph.decoded_pair(index, attempt).items()}
        drawn = {k: v.numpy() for k, v in graph.draw(index, attempt).items()}
        geom, flip = p["geometry"].astype(np.float64), bool(p["flags"][0])
        flips += flip
        for key, image, at, size in (
            ("template", p["template_image"], geom[:3], d.template_size),
            ("search", p["search_image"], geom[3:], d.search_size),
        ):
            ref = crops.crop_numpy(image, at[:2], at[2], size)
            ref = np.clip(np.rint(ref[:, ::-1] if flip else ref), 0, 255)
            diff = np.abs(batch[key][b].astype(int) - ref.astype(int))
            assert diff.max() <= 1 and diff.mean() < 0.05, key
        # Decoded at the reduction the Python path picks, with the same pixels (libjpeg).
        path = graph.tables.paths[int(drawn["search_row"])].numpy().decode()
        shrink = drawn["search_side"] / d.search_size
        if drawn["same_frame"]:
            shrink = min(shrink, drawn["template_side"] / d.template_size)
        image, reduction, _ = sampling.decode_reduced(path, shrink)
        assert p["search_image"].shape == image.shape
        assert reduction == (2 ** int(drawn["search_log2_reduction"]) if suffix == "jpg" else 1)
        assert np.abs(p["search_image"].astype(int) - image).mean() < 0.5
        reductions.add(reduction)
        # The box: the ground truth mapped into the crop, and where the white target is.
        name, frame = pathlib.Path(path).parent.name, int(pathlib.Path(path).stem) - 1
        expect = crops.box_to_crop(
            seqs[name][frame], drawn["search_center"], drawn["search_side"], d.search_size
        )
        if flip:
            expect[0] = d.search_size - expect[0] - expect[2]
        np.testing.assert_allclose(batch["box"][b], expect, atol=1e-3)
        bright = np.argwhere(batch["search"][b].mean(-1) > (GREY + 255) / 2)
        (y0, x0), (y1, x1) = bright.min(0), bright.max(0) + 1
        np.testing.assert_allclose([x0, y0, x1 - x0, y1 - y0], batch["box"][b], atol=1.6)
    assert 0 < flips < 8
    assert (reductions == {1}) == (zoom == 1 or suffix == "png")


def test_draws_follow_the_sampling_rules(tmp_path):
    write_got10k(tmp_path / "a", "train", long_sequences(30))
    write_got10k(tmp_path / "b", "train", {"only": long_sequences(5)["GOT-10k_Train_000002"]})
    mixture = f"got10k:{tmp_path / 'a'}:3,got10k:{tmp_path / 'b'}:1"
    d = graph_config(tmp_path, mixture=mixture, max_gap=4, negative_prob=0.25)
    d.augment.flip_prob, d.augment.gray_prob = 0.5, 0.2
    d.augment.color, d.augment.blur_prob = 0.1, 0.1
    graph = graph_pairs.GraphPairs(pairs.make_sampler(d, seed=0))
    n = 800
    ds = tf.data.Dataset.range(n).map(lambda g: graph.draw(g, tf.constant(3, tf.int64)))
    draws = next(ds.batch(n).as_numpy_iterator())
    paths = graph.tables.paths.numpy()
    numbers = graph.tables.frame_numbers.numpy()
    t_rows, s_rows, negative = draws["template_row"], draws["search_row"], draws["negative"]
    from_a = np.char.find(paths[t_rows].astype(str), "/a/") >= 0
    assert 0.70 < from_a.mean() < 0.80  # weights 3:1
    assert 0.21 < negative.mean() < 0.29 and 0.45 < draws["flip"].mean() < 0.55
    assert 0.16 < draws["gray"].mean() < 0.24
    folder = lambda rows: np.array([p.rsplit(b"/", 1)[0] for p in paths[rows]])
    pos = ~negative
    assert (folder(t_rows[pos]) == folder(s_rows[pos])).all()
    gaps = np.abs(numbers[t_rows[pos]] - numbers[s_rows[pos]])
    assert gaps.max() == 4 and set(gaps) == {0, 1, 2, 3, 4}
    assert (folder(t_rows[negative]) != folder(s_rows[negative])).mean() > 0.4
    # Jitter: side x U(1 - s, 1 + s) around the context side, centre shift in crop pixels.
    boxes = graph.tables.boxes.numpy()
    for kind, rows, size, scale, shift, factor in (
        ("template", t_rows, d.template_size, 0.05, 1.0, 1.0),
        ("search", s_rows, d.search_size, 0.18, 16.0, d.search_size / d.template_size),
    ):
        box = boxes[rows]
        base = crops.context_side(box[:, 2], box[:, 3], d.context) * factor
        rel = draws[f"{kind}_side"] / base - 1
        assert np.abs(rel).max() <= scale and np.abs(rel).max() > 0.9 * scale
        offset = (draws[f"{kind}_center"] - (box[:, :2] + box[:, 2:] / 2)) * size
        offset /= draws[f"{kind}_side"][:, None]
        ok = pos if kind == "search" else slice(None)  # negatives may look away
        assert np.abs(offset[ok]).max() <= shift and np.abs(offset[ok]).max() > 0.9 * shift
    photometric = draws["template_photometric"]
    assert (
        np.abs(photometric[:, :2] - 1).max() <= 0.1 and np.abs(photometric[:, 2] - 1).max() <= 0.2
    )
    blur = photometric[:, 3]
    assert 0.0 < (blur > 0).mean() < 0.15 and ((blur == 0) | ((blur >= 0.3) & (blur <= 1.5))).all()
    # JPEG decode reduction 2^k: the largest power of two <= the shrink, k <= 3.
    shrink = tf.constant([0.5, 1.9, 2.0, 3.9, 4.0, 7.9, 8.0, 99.0], tf.float64)
    assert graph_pairs.log2_reduction(shrink, True).numpy().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert graph_pairs.log2_reduction(shrink, False).numpy().tolist() == [0] * 8


def test_unreadable_frames_and_outside_boxes_are_skipped_counted_and_fixed(tmp_path, caplog):
    boxes = long_sequences(8)
    boxes["GOT-10k_Train_000002"][5] = [200, 8, 20, 16]  # centre outside the 64x48 frame
    write_got10k(tmp_path, "train", boxes)
    (tmp_path / "train" / "GOT-10k_Train_000002" / "meta_info.ini").unlink()  # size unknown
    d = graph_config(tmp_path)
    sampling.SKIPPED.reset()
    clean = take(d, 4, seed=0, global_batch_size=8)
    outside = str(tmp_path / "train" / "GOT-10k_Train_000002" / "00000006.jpg")
    assert pairs.skipped_frames()["bad_box_paths"] == [outside]
    bad = tmp_path / "train" / "GOT-10k_Train_000001" / "00000003.jpg"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated JPEG
    sampling.SKIPPED.reset()
    broken = take(d, 4, seed=0, global_batch_size=8)
    stats = pairs.skipped_frames()
    assert stats["count"] >= 2 and stats["paths"] == [str(bad)]
    assert stats["bad_box_paths"] == [outside]
    assert f"skipping frame {bad}" in caplog.text
    d.num_parallel_calls = 1  # skip cache filled, other timing: the same examples
    assert_same_batches(take(d, 4, seed=0, global_batch_size=8), broken)
    # Exactly the examples whose attempt used without the truncated frame drew it changed.
    graph = graph_pairs.GraphPairs(pairs.make_sampler(d, seed=0))
    hit = []
    for g in range(32):
        for attempt in itertools.count():
            drawn = graph.draw(tf.constant(g, tf.int64), tf.constant(attempt, tf.int64))
            rows = {int(drawn["template_row"]), int(drawn["search_row"])}
            used = {graph.tables.paths[r].numpy().decode() for r in rows}
            if outside not in used:
                break
        hit.append(str(bad) in used)
    changed = [
        not np.array_equal(c["search"][b], x["search"][b])
        or not np.array_equal(c["template"][b], x["template"][b])
        for c, x in zip(clean, broken)
        for b in range(8)
    ]
    assert any(hit) and changed == hit


def test_pipeline_choice_and_config_errors(tmp_path):
    write_got10k(tmp_path, "train")
    synthetic = small_config()
    assert pairs.resolve_pipeline("auto", pairs.make_sampler(synthetic, 0)) == "python"
    folder = pairs.make_sampler(small_config(layout="got10k", root=str(tmp_path)), 0)
    assert pairs.resolve_pipeline("auto", folder) == "graph"
    assert pairs.resolve_pipeline("python", folder) == "python"
    mixed = pairs.make_sampler(small_config(mixture=f"got10k:{tmp_path}:1,synthetic::1"), 0)
    assert pairs.resolve_pipeline("auto", mixed) == "python"
    synthetic.pipeline = "graph"
    with pytest.raises(ConfigError, match="data.pipeline='graph' .*synthetic"):
        take(synthetic, 1, seed=0, global_batch_size=2)
    synthetic.pipeline = "fast"
    with pytest.raises(ConfigError, match="data.pipeline='fast': expected one of"):
        take(synthetic, 1, seed=0, global_batch_size=2)
