"""dsiam_jax: distilled Siamese visual trackers (SiamFC, SiamRPN) in JAX/Flax."""

__version__ = "0.1.0"
