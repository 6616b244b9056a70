"""mode=publish: trained models -> slim, self-describing checkpoints (e.g. for `zoo/`).

    python -m dsiam_jax.main --config=configs/publish.py --config.checkpoint=W2 \
        --config.publish.prefix=siamfc_ --workdir=zoo

Every model of `config.checkpoint` (but a run's raw weights kept beside their moving
average, role 'raw') is written to `WORKDIR/<prefix><name>/checkpoints/`
with its architecture and variables only (no optimiser state), renamed to
`<prefix><name>`, so `--config.checkpoint=<prefix><name>` finds it in the zoo.

With `config.publish.check_sequences=N` each model is first tracked over N synthetic
test sequences with JAX and with its int8 (QDQ) onnxruntime graphs
(`export.tracking_check`); the scores and their change are stored in the published
model's `info['backend_check']`, which `config.backend=auto` reads
(`tracking.network.resolve_backend`).
"""

from __future__ import annotations

import pathlib

import ml_collections

from dsiam_jax import checkpoints, parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking.network import QUANTIZED
from dsiam_jax.workdir import safe_name


def backend_check(config: ml_collections.ConfigDict, model) -> dict:
    """`{QUANTIZED: scores, changes against JAX, sequences}` on the synthetic test split."""
    from dsiam_jax.export import tracking_check
    from dsiam_jax.jobs.export import synthetic_test_sequences

    n = int(config.publish.check_sequences)
    report = tracking_check.compare_backends(
        model, config.tracker, [QUANTIZED], synthetic_test_sequences(config, n)
    )
    row = dict(report[QUANTIZED])
    row.update(reference="jax", reference_success_auc=report["jax"]["success_auc"])
    row.update(split=report["split"], sequences=report["sequences"], frames=report["frames"])
    return {QUANTIZED: row}


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, str]:
    """Writes one slim checkpoint per model; returns `{new name: folder}`."""
    models = checkpoints.load_many(config.checkpoint)
    out: dict[str, str] = {}
    for name, model in models.items():
        if model.role == checkpoints.RAW_ROLE:  # the raw weights beside a moving average
            continue
        new = config.publish.prefix + safe_name(name)
        if not new.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"publish: {new!r} is not a usable zoo name (letters, digits, _ -)")
        folder = pathlib.Path(workdir) / new
        if (folder / "checkpoints").exists() and not config.publish.overwrite:
            raise ConfigError(f"{folder} exists: set --config.publish.overwrite=True to replace it")
        step = int(model.info.get("step", 0))
        # A published model published again (e.g. to add its backend check) keeps its
        # provenance: the training run it came from.
        model.info = {
            "source": model.info.get("source") or model.info.get("path", ""),
            "source_name": model.info.get("source_name", name),
            "step": step,
        }
        if int(config.publish.check_sequences) > 0:
            model.info["backend_check"] = backend_check(config, model)
            row = model.info["backend_check"][QUANTIZED]
            print(
                f"{name}: int8 success AUC {row['success_auc']:.4f} vs JAX "
                f"{row['reference_success_auc']:.4f} ({row['success_auc_change']:+.4f}) on "
                f"{row['sequences']} synthetic test sequences"
            )
        model.name = new
        if parallel.is_main_process():
            store = checkpoints.CheckpointStore(folder, max_to_keep=1)
            store.save(step, {new: model})
            store.close()
        out[new] = str(folder)
        print(f"published {name} ({model.spec.kind} {list(model.spec.channels)}) -> {folder}")
    return out
