"""Benchmarks: each script writes JSON under benchmarks/results/ (or --out)."""
