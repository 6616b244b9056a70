"""Multi-job experiments: the default pipeline, ablation sweeps, their reports."""
