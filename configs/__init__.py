"""Experiment configs (ml_collections `get_config()` files); `default.py` documents every field."""
