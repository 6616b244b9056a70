"""mode=summary: per-layer table and `WORKDIR/summary.json` (params, MB, FLOPs/frame)."""

from __future__ import annotations

import json
import pathlib

import ml_collections

from dsiam_jax import model_summary, parallel
from dsiam_jax.models.spec import ModelSpec


def tracking_geometry(config: ml_collections.ConfigDict, kind: str) -> tuple[int, int, int]:
    """(template size, search size, scales per frame) the tracker of `kind` runs at."""
    t = config.tracker[kind]
    return t.template_size, t.search_size, t.get("num_scales", 1)


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Summarises `config.model` at the tracker's crop sizes; writes summary.json."""
    spec = ModelSpec.from_config(config.model)
    template, search, scales = tracking_geometry(config, spec.kind)
    summary = model_summary.summarize(spec, template, search, scales)
    if parallel.is_main_process():
        print(model_summary.format_table(summary))
        path = pathlib.Path(workdir) / "summary.json"
        path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
