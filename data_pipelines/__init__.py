"""Datasets and the training input pipeline.

TensorFlow is imported only by the tf.data / TFDS modules of this package
(`data_pipelines.pairs`, `data_pipelines.tfds_builders`). The sequence readers
(`data_pipelines.sequences`, `data_pipelines.layouts.*`) and the synthetic
generator are NumPy/PIL only, so evaluation and benchmarks run where TensorFlow
is not installed.
"""
