"""mode=summary: per-layer table and `WORKDIR/summary.json` (params, MB, FLOPs/frame)."""

from __future__ import annotations

import json
import pathlib

import ml_collections

from dsiam_jax import model_summary, parallel
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.tracking.tracker import crop_geometry


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Summarises `config.model` at the tracker's crop sizes; writes summary.json."""
    spec = ModelSpec.from_config(config.model)
    g = crop_geometry(spec.kind, config.tracker)
    summary = model_summary.summarize(spec, g.template_size, g.search_size, g.num_scales)
    if parallel.is_main_process():
        print(model_summary.format_table(summary))
        path = pathlib.Path(workdir) / "summary.json"
        path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
