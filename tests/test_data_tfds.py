"""TFDS builders: prepare a fixture folder offline, read it back, train from the records."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow_datasets as tfds
from test_data_fixtures import small_config, write_got10k

from data_pipelines import pairs, tfds_builders
from data_pipelines.sequences import DatasetError, read_sequences


def test_prepare_load_and_train_from_records(tmp_path):
    tfds.disable_progress_bar()
    root, data_dir = tmp_path / "got10k", tmp_path / "records"
    write_got10k(root, "train", absent={"GOT-10k_Train_000001": [1]})
    write_got10k(root, "val")
    d = small_config(layout="got10k", root=str(root), use_tfds=True, tfds_data_dir=str(data_dir))
    with pytest.raises(DatasetError, match="not prepared"):
        pairs.make_sampler(d, seed=0)
    builder = tfds_builders.prepare("got10k", str(root), str(data_dir))
    assert set(builder.info.splits) == {"train", "val"}  # no test folder: no test split
    for split in ("train", "val"):
        direct = read_sequences("got10k", str(root), split)
        loaded = tfds_builders.load_sequences("got10k", str(root), split, str(data_dir))
        assert [s.name for s in loaded] == [s.name for s in direct]
        for a, b in zip(direct, loaded):
            assert a.frames == b.frames and a.image_size == b.image_size
            np.testing.assert_array_equal(a.boxes, b.boxes)
            np.testing.assert_array_equal(a.visible, b.visible)
    # The records path gives exactly the batches of the direct path.
    from_records = next(pairs.local_batches(d, seed=4, global_batch_size=4))
    d.use_tfds = False
    direct = next(itertools.islice(pairs.local_batches(d, seed=4, global_batch_size=4), 1))
    for key in direct:
        np.testing.assert_array_equal(from_records[key], direct[key])
    with pytest.raises(DatasetError, match="not 'test'"):
        tfds_builders.load_sequences("got10k", str(root), "test", str(data_dir))
