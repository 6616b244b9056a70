"""`mode=write_synthetic`: writes the synthetic data as a GOT-10k folder.

    python -m dsiam_jax.main --config=configs/default.py --config.mode=write_synthetic \
        --workdir=/tmp/synth [--config.data.root=/data/synth_got10k]

Writes to `config.data.root` when set, else to WORKDIR/synthetic_got10k; the
sequences are `config.data.synthetic.*` (seed, frame size, length; `num_sequences`
for train, an eighth of it for val and a quarter for test, at least 1 each), and
`write_splits` says which splits to write.
"""

from __future__ import annotations

import pathlib

from absl import logging

from data_pipelines import synthetic
from data_pipelines.synthetic.got10k_writer import write_got10k
from dsiam_jax.errors import ConfigError


def run(config, workdir: str) -> dict:
    """Renders the train/val/test splits; returns {'root', 'splits': {split: count}}."""
    syn = config.data.synthetic
    root = pathlib.Path(config.data.root or pathlib.Path(workdir) / synthetic.GOT10K_FOLDER)
    counts = {k: synthetic.split_count(k, syn.num_sequences) for k in synthetic.SPLIT_DIVISORS}
    splits = tuple(syn.write_splits)
    unknown = sorted(set(splits) - set(counts))
    if unknown:
        raise ConfigError(f"data.synthetic.write_splits: unknown splits {unknown}")
    written = write_got10k(
        root,
        seed=int(syn.seed),
        splits=splits,
        num_sequences={k: counts[k] for k in splits},
        sequence_length=int(syn.sequence_length),
        frame_size=tuple(int(v) for v in syn.frame_size),
        overwrite=True,
    )
    summary = {"root": str(root), "splits": {k: len(v) for k, v in written.items()}}
    logging.info("wrote synthetic GOT-10k data: %s", summary)
    print(f"wrote synthetic GOT-10k data to {root}: {summary['splits']}")
    return summary
