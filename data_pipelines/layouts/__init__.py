"""One reader module per on-disk layout: `read(root, split, **kwargs) -> list[Sequence]`."""
