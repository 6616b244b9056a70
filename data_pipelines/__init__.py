"""Datasets and the training input pipeline.

NumPy/PIL only (usable where TensorFlow is not installed, e.g. for evaluation):
- `sequences`: the `Sequence` type, `read_sequences(layout, root, split)`, box files;
- `layouts.<layout>`: one reader per on-disk layout (got10k, lasot, otb, trackingnet,
  imagenet_vid, folder, synthetic);
- `synthetic`: scenes rendered from the photographs bundled in scikit-image and
  scikit-learn, and `write_got10k` to write them as a GOT-10k folder;
- `sampling`: stateless pair sampling (`PairSampler`, `pair_numpy`);
- `sources`: `config.data` -> weighted datasets.

TensorFlow (imported only by these modules):
- `pairs`: the tf.data pipeline and `train_batches` (global jax arrays);
- `graph_pairs`: its graph path (sampling and decoding as TensorFlow ops);
- `crop_ops`, `augment`: the crop and photometric augmentation ops;
- `tfds_builders`, `prepare_tfds`: TFDS records of the dataset folders.
"""
