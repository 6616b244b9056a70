"""mode=publish: trained models -> slim, self-describing checkpoints (e.g. for `zoo/`).

    python -m dsiam_jax.main --config=configs/publish.py --config.checkpoint=W2 \
        --config.publish.prefix=siamfc_ --workdir=zoo

Every model of `config.checkpoint` is written to `WORKDIR/<prefix><name>/checkpoints/`
with its architecture and variables only (no optimiser state), renamed to
`<prefix><name>`, so `--config.checkpoint=<prefix><name>` finds it in the zoo.
"""

from __future__ import annotations

import pathlib

import ml_collections

from dsiam_jax import checkpoints, parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.workdir import safe_name


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, str]:
    """Writes one slim checkpoint per model; returns `{new name: folder}`."""
    models = checkpoints.load_many(config.checkpoint)
    out: dict[str, str] = {}
    for name, model in models.items():
        new = config.publish.prefix + safe_name(name)
        if not new.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"publish: {new!r} is not a usable zoo name (letters, digits, _ -)")
        folder = pathlib.Path(workdir) / new
        if (folder / "checkpoints").exists() and not config.publish.overwrite:
            raise ConfigError(f"{folder} exists: set --config.publish.overwrite=True to replace it")
        step = int(model.info.get("step", 0))
        model.info = {"source": model.info.get("path", ""), "source_name": name, "step": step}
        model.name = new
        if parallel.is_main_process():
            store = checkpoints.CheckpointStore(folder, max_to_keep=1)
            store.save(step, {new: model})
            store.close()
        out[new] = str(folder)
        print(f"published {name} ({model.spec.kind} {list(model.spec.channels)}) -> {folder}")
    return out
