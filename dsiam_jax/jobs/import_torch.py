"""mode=import_torch: a pysot / siamfc-pytorch / DaSiamRPN checkpoint -> a dsiam_jax checkpoint.

    python -m dsiam_jax.main --config=configs/import_torch.py \\
        --config.torch_checkpoint=model.pth --config.torch_format=pysot_alexnet --workdir=W7

Writes `W7/checkpoints/<step>/` (one model, named `config.torch_name`, with role
`config.torch_role`) usable wherever a checkpoint is (evaluate, export, and as
`--config.teacher.checkpoint=W7`), and `W7/import.json` (format, source, spec,
parameter count, the channel-order handling). Needs PyTorch (the `torch` extra)
only to read the file; see `dsiam_jax.export.torch_import` for the mappings.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import ml_collections

from dsiam_jax import checkpoints, models, parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.export import torch_import
from dsiam_jax.models import TrackerModel

CHANNEL_ORDER = {
    "pysot_alexnet": "pysot reads BGR: conv1 input channels reversed, so inputs are RGB",
    "siamfc_alexnet": "siamfc-pytorch reads RGB: no change",
    "dasiamrpn_big": "DaSiamRPN reads BGR: conv1 input channels reversed, so inputs are RGB",
    "dasiamrpn": "DaSiamRPN reads BGR: conv1 input channels reversed, so inputs are RGB",
}
ROLES = ("teacher", "student", "model")


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Imports `config.torch_checkpoint`; saves it as step `config.torch_step` in WORKDIR."""
    fmt = config.torch_format
    if fmt not in torch_import.FORMATS:
        raise ConfigError(f"config.torch_format={fmt!r}: expected one of {torch_import.FORMATS}")
    if not config.torch_checkpoint:
        raise ConfigError("config.torch_checkpoint is empty: name a .pth file")
    if config.torch_role not in ROLES:
        raise ConfigError(f"config.torch_role={config.torch_role!r}: expected one of {ROLES}")
    state = torch_import.load_state_dict(config.torch_checkpoint)
    spec, variables = torch_import.convert(fmt, state)
    torch_import.check_against_model(spec, variables)
    name = config.torch_name or config.torch_role
    source = str(pathlib.Path(config.torch_checkpoint).expanduser().resolve())
    info = {"source": source, "torch_format": fmt, "channel_order": CHANNEL_ORDER[fmt]}
    model = TrackerModel(name, spec, variables, role=config.torch_role, info=info)
    store = checkpoints.CheckpointStore(workdir)
    try:
        store.save(int(config.torch_step), {name: model}, extra_meta={"imported_from": info})
    finally:
        store.close()
    report = {
        **info,
        "name": name,
        "role": config.torch_role,
        "step": int(config.torch_step),
        "spec": spec.to_dict(),
        "params": models.num_params(variables["params"]),
        "tensors": len(state),
    }
    if parallel.is_main_process():
        (pathlib.Path(workdir) / "import.json").write_text(json.dumps(report, indent=2) + "\n")
        print(
            f"imported {fmt} ({report['params']:,} params, channels {list(spec.channels)}) "
            f"as {name!r} ({config.torch_role}) into {workdir}"
        )
    return report
