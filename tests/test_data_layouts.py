"""Dataset readers: a tiny fixture folder per layout, boxes checked by hand and against
the got10k toolkit; bad input gives clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from test_data_fixtures import box_lines, write_frames, write_got10k

from data_pipelines.sequences import DatasetError, read_sequences
from dsiam_jax.errors import InputFileError, UserError


def test_got10k_reader(tmp_path):
    truth = write_got10k(tmp_path, "train", absent={"GOT-10k_Train_000001": [2]})
    seqs = read_sequences("got10k", str(tmp_path), "train")
    assert [s.name for s in seqs] == list(truth)
    first = seqs[0]
    np.testing.assert_array_equal(first.boxes, truth["GOT-10k_Train_000001"])
    np.testing.assert_array_equal(first.visible, [True, True, False, True])
    np.testing.assert_array_equal(first.meta["cover"], [8, 8, 0, 8])
    assert first.image_size == (64, 48)
    assert first.load_frame(0).shape == (48, 64, 3)
    # root may also be the split folder itself
    again = read_sequences("got10k", str(tmp_path / "train"), "")
    np.testing.assert_array_equal(again[1].boxes, seqs[1].boxes)


def test_got10k_agrees_with_toolkit(tmp_path):
    toolkit = pytest.importorskip("got10k.datasets")
    write_got10k(tmp_path, "train", absent={"GOT-10k_Train_000002": [0]})
    ref = toolkit.GOT10k(str(tmp_path), subset="train", return_meta=True)
    seqs = read_sequences("got10k", str(tmp_path), "train")
    assert len(ref) == len(seqs)
    for k, seq in enumerate(seqs):
        img_files, anno, meta = ref[k]
        assert seq.frames == img_files
        np.testing.assert_allclose(seq.boxes, anno)
        np.testing.assert_array_equal(seq.visible, meta["absence"] == 0)
        np.testing.assert_array_equal(seq.meta["cover"], meta["cover"])
        assert seq.meta["info"]["resolution"] == meta["resolution"]


def test_got10k_test_split_has_first_box_only(tmp_path):
    toolkit = pytest.importorskip("got10k.datasets")
    boxes = np.array([[5, 6, 10, 12]] * 3, float)
    write_got10k(tmp_path, "test", {"GOT-10k_Test_000001": boxes})
    (tmp_path / "test" / "GOT-10k_Test_000001" / "groundtruth.txt").write_text("5,6,10,12\n")
    (seq,) = read_sequences("got10k", str(tmp_path), "test")
    np.testing.assert_array_equal(seq.boxes[0], [5, 6, 10, 12])
    assert np.isnan(seq.boxes[1:]).all()
    _, anno = toolkit.GOT10k(str(tmp_path), subset="test")[0]
    np.testing.assert_array_equal(anno, seq.boxes[:1])


def test_lasot_reader_and_split(tmp_path):
    # airplane-1 is in the official test split, airplane-2 is not.
    for name, occ, oov in (("airplane-1", "0,0,1", "0,0,0"), ("airplane-2", "0,0,0", "1,0,0")):
        seq = tmp_path / "airplane" / name
        boxes = [[1, 2, 10, 11], [2, 3, 10, 11], [3, 4, 10, 11]]
        write_frames(seq / "img", [f"{i:08d}.jpg" for i in (1, 2, 3)], (32, 24), boxes)
        (seq / "groundtruth.txt").write_text(box_lines(boxes))
        (seq / "full_occlusion.txt").write_text(occ)
        (seq / "out_of_view.txt").write_text(oov)
        (seq / "nlp.txt").write_text("a plane")
    every = read_sequences("lasot", str(tmp_path), "all")
    assert [s.name for s in every] == ["airplane-1", "airplane-2"]
    np.testing.assert_array_equal(every[0].visible, [True, True, False])
    np.testing.assert_array_equal(every[1].visible, [False, True, True])
    np.testing.assert_array_equal(every[0].boxes[2], [3, 4, 10, 11])
    assert [s.name for s in read_sequences("lasot", str(tmp_path), "test")] == ["airplane-1"]
    assert [s.name for s in read_sequences("lasot", str(tmp_path), "train")] == ["airplane-2"]


def test_otb_reader(tmp_path):
    # Jogging: two targets; Football1: 74 of 76 frames annotated; Human4: an empty
    # annotation file beside the real one; BlurCar3: frames start at 0003.jpg, tab-separated.
    boxes = [[5, 5, 8, 9], [6, 5, 8, 9]]
    write_frames(tmp_path / "Jogging" / "img", ["0001.jpg", "0002.jpg"], (24, 24), boxes)
    (tmp_path / "Jogging" / "groundtruth_rect.1.txt").write_text(box_lines(boxes))
    (tmp_path / "Jogging" / "groundtruth_rect.2.txt").write_text(box_lines(boxes[::-1], "\t"))
    names = [f"{i:04d}.jpg" for i in range(1, 77)]
    write_frames(tmp_path / "Football1" / "img", names, (16, 16), [None] * 76)
    (tmp_path / "Football1" / "groundtruth_rect.txt").write_text(box_lines([[1, 1, 4, 4]] * 74))
    write_frames(tmp_path / "Human4" / "img", ["0001.jpg"], (16, 16), [None])
    (tmp_path / "Human4" / "groundtruth_rect.1.txt").write_text("")
    (tmp_path / "Human4" / "groundtruth_rect.2.txt").write_text("1 2 3 4\n")
    write_frames(tmp_path / "BlurCar3" / "img", ["0003.jpg", "0004.jpg"], (16, 16), [None] * 2)
    (tmp_path / "BlurCar3" / "groundtruth_rect.txt").write_text("1\t2\t3\t4\n2\t2\t3\t4\n")
    seqs = {s.name: s for s in read_sequences("otb", str(tmp_path), "")}
    assert sorted(seqs) == ["BlurCar3", "Football1", "Human4", "Jogging.1", "Jogging.2"]
    np.testing.assert_array_equal(seqs["Jogging.2"].boxes, boxes[::-1])
    assert len(seqs["Football1"].frames) == 74 and seqs["Football1"].frames[-1].endswith("0074.jpg")
    np.testing.assert_array_equal(seqs["Human4"].boxes, [[1, 2, 3, 4]])
    assert seqs["BlurCar3"].frames[0].endswith("0003.jpg")
    assert {s.name for s in read_sequences("otb", str(tmp_path), "otb2013")} == {
        "Football1",
        "Jogging.1",
        "Jogging.2",
    }


def test_trackingnet_reader(tmp_path):
    boxes = [[i, 2 * i, 5, 6] for i in range(12)]
    chunk = tmp_path / "TRAIN_0"
    write_frames(chunk / "frames" / "vid_a", [f"{i}.jpg" for i in range(12)], (32, 32), boxes)
    (chunk / "anno").mkdir(parents=True)
    (chunk / "anno" / "vid_a.txt").write_text(box_lines(boxes))
    test = tmp_path / "TEST"
    write_frames(test / "frames" / "vid_t", [f"{i}.jpg" for i in range(3)], (32, 32), [None] * 3)
    (test / "anno").mkdir(parents=True)
    (test / "anno" / "vid_t.txt").write_text("1,1,5,5\n")
    (seq,) = read_sequences("trackingnet", str(tmp_path), "train")
    # numeric frame order: 0, 1, 2, ..., 10, 11 (not 0, 1, 10, 11, 2, ...)
    assert [int(f.rsplit("/", 1)[1][:-4]) for f in seq.frames] == list(range(12))
    np.testing.assert_array_equal(seq.boxes, boxes)
    (t,) = read_sequences("trackingnet", str(tmp_path), "test")
    assert np.isnan(t.boxes[1:]).all() and t.boxes[0].tolist() == [1, 1, 5, 5]


def _vid_xml(objects, size=(40, 30)) -> str:
    objs = "".join(
        f"<object><trackid>{t}</trackid><name>n02958343</name><bndbox><xmax>{x1}</xmax>"
        f"<xmin>{x0}</xmin><ymax>{y1}</ymax><ymin>{y0}</ymin></bndbox><occluded>0</occluded>"
        "</object>"
        for t, (x0, y0, x1, y1) in objects.items()
    )
    return (
        f"<annotation><folder>x</folder><filename>f</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height></size>{objs}</annotation>"
    )


def test_imagenet_vid_reader(tmp_path):
    video = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    anno = tmp_path / "Annotations" / "VID" / "train" / video
    anno.mkdir(parents=True)
    frames = [
        {"0": (1, 2, 10, 12), "2": (0, 0, 4, 4)},  # track 2 appears once: dropped
        {"0": (2, 2, 11, 12), "1": (20, 5, 29, 19)},
        {"1": (21, 5, 30, 19)},
    ]
    for i, objects in enumerate(frames):
        (anno / f"{i:06d}.xml").write_text(_vid_xml(objects))
    write_frames(
        tmp_path / "Data" / "VID" / "train" / video,
        [f"{i:06d}.JPEG" for i in range(3)],
        (40, 30),
        [None] * 3,
    )
    seqs = read_sequences("imagenet_vid", str(tmp_path), "train")
    assert [s.name for s in seqs] == ["ILSVRC2015_train_00000000.0", "ILSVRC2015_train_00000000.1"]
    t0, t1 = seqs
    np.testing.assert_array_equal(t0.boxes[:2], [[1, 2, 10, 11], [2, 2, 10, 11]])  # w = xmax-xmin+1
    np.testing.assert_array_equal(t0.visible, [True, True, False])
    np.testing.assert_array_equal(t1.visible, [False, True, True])
    assert t0.image_size == (40, 30) and t0.frames[2].endswith("000002.JPEG")
    assert t0.load_frame(0).shape == (30, 40, 3)


def test_folder_reader_natural_order(tmp_path):
    boxes = [[1, 1, 5, 5], [2, 1, 5, 5], [3, 1, 5, 5]]
    write_frames(tmp_path / "walk", ["1.png", "2.png", "10.png"], (16, 16), boxes)
    (tmp_path / "walk" / "groundtruth_rect.txt").write_text(box_lines(boxes, " "))
    write_frames(tmp_path / "run" / "img", ["a.jpg", "b.jpg"], (16, 16), boxes[:2])
    (tmp_path / "run" / "groundtruth.txt").write_text(box_lines(boxes[:1]))
    seqs = {s.name: s for s in read_sequences("folder", str(tmp_path))}
    assert [f.rsplit("/", 1)[1] for f in seqs["walk"].frames] == ["1.png", "2.png", "10.png"]
    np.testing.assert_array_equal(seqs["walk"].boxes, boxes)
    assert np.isnan(seqs["run"].boxes[1]).all()
    (single,) = read_sequences("folder", str(tmp_path / "walk"))  # root is one sequence
    assert single.name == "walk"


def test_malformed_groundtruth_names_file_and_line(tmp_path):
    write_got10k(tmp_path, "train")
    gt = tmp_path / "train" / "GOT-10k_Train_000002" / "groundtruth.txt"
    gt.write_text("30,20,12,14\n28,20,twelve,14\n26,19,13,15\n")
    with pytest.raises(DatasetError, match=r"GOT-10k_Train_000002/groundtruth.txt:2: expected 4"):
        read_sequences("got10k", str(tmp_path), "train")
    gt.write_text("30,20,12,14\n28,20,12\n26,19,13,15\n")
    with pytest.raises(DatasetError, match=r"groundtruth.txt:2"):
        read_sequences("got10k", str(tmp_path), "train")


def test_missing_root_and_empty_dataset_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="dataset root not found"):
        read_sequences("lasot", str(tmp_path / "nope"), "train")
    with pytest.raises(DatasetError, match="no sequences found"):
        read_sequences("folder", str(tmp_path), "")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "list.txt").write_text("")
    with pytest.raises(DatasetError, match="no sequences found"):
        read_sequences("got10k", str(tmp_path), "train")
    with pytest.raises(UserError, match="unknown dataset layout"):
        read_sequences("kitti", str(tmp_path), "")
    # A box count that does not match the frames names the file.
    write_got10k(tmp_path / "b", "val", {"s": np.ones((3, 4))})
    (tmp_path / "b" / "val" / "s" / "groundtruth.txt").write_text("1,1,1,1\n2,2,2,2\n")
    with pytest.raises(DatasetError, match="2 boxes for 3 frames"):
        read_sequences("got10k", str(tmp_path / "b"), "val")
