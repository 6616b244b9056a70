"""Prepares the TFDS records of a dataset folder once (offline; frames are not copied).

    python -m data_pipelines.prepare_tfds --layout=got10k --root=/data/GOT-10k \
        [--data_dir=~/tensorflow_datasets]

Then train with `--config.data.use_tfds=True --config.data.root=/data/GOT-10k`
(and `--config.data.tfds_data_dir=...` when `--data_dir` was given).
"""

from __future__ import annotations

import sys

from absl import app, flags

from dsiam_jax.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string("layout", None, "got10k | lasot | trackingnet | imagenet_vid | otb | folder")
flags.DEFINE_string("root", None, "Dataset root folder in its official layout.")
flags.DEFINE_string("data_dir", "", "Where to write the records ('' = ~/tensorflow_datasets).")
flags.mark_flags_as_required(["layout", "root"])


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from data_pipelines import tfds_builders

    try:
        builder = tfds_builders.prepare(FLAGS.layout, FLAGS.root, FLAGS.data_dir or None)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    splits = {name: info.num_examples for name, info in builder.info.splits.items()}
    print(f"prepared {builder.name} in {builder.data_dir}: sequences per split {splits}")


if __name__ == "__main__":
    app.run(main)
