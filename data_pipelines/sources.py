"""`config.data` -> the datasets of a training run (`sampling.Source` list), read directly
from their folders or from prepared TFDS records.

`data.mixture` ("layout[/split]:root:weight,...") lists several datasets with sampling
weights; when empty, `data.layout` / `data.root` / `data.split` name one dataset.
TensorFlow is imported only for `data.use_tfds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_pipelines import sequences
from data_pipelines.sampling import Source
from dsiam_jax.errors import ConfigError


def parse_mixture(text: str, default_split: str) -> list[tuple[str, str, str, float]]:
    """`"got10k:/data/got10k:2,lasot/train:/data/lasot:1"` -> [(layout, split, root, weight)].

    The root may contain ':'; the weight is the last field and may be omitted (1). A
    last field that is neither a number nor part of a path (no '/' or '\\') is a
    mistyped weight and an error naming it (`synthetic::heavy`).
    """
    out = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        head, sep, rest = entry.partition(":")
        if not sep:
            raise ConfigError(
                f"data.mixture entry {entry!r}: expected layout[/split]:root[:weight]"
            )
        root, weight = rest, 1.0
        if ":" in rest:
            maybe_root, _, last = rest.rpartition(":")
            try:
                weight = float(last)
                root = maybe_root
            except ValueError:
                if "/" not in last and "\\" not in last:
                    raise ConfigError(
                        f"data.mixture entry {entry!r}: weight {last!r} is not a number "
                        "(a root that contains ':' needs an explicit weight: layout:root:1)"
                    ) from None
        layout, _, split = head.partition("/")
        if layout not in sequences.LAYOUTS:
            raise ConfigError(
                f"data.mixture entry {entry!r}: unknown layout {layout!r} "
                f"(expected one of {sequences.LAYOUTS})"
            )
        if not weight >= 0 or weight == float("inf"):
            raise ConfigError(f"data.mixture entry {entry!r}: weight must be finite and >= 0")
        out.append((layout, split or default_split, root, weight))
    if not out:
        raise ConfigError(f"data.mixture={text!r} names no dataset")
    return out


def synthetic_kwargs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments of the synthetic reader from `data.synthetic`."""
    syn = data["synthetic"]
    return {
        "num_sequences": int(syn["num_sequences"]),
        "sequence_length": int(syn["sequence_length"]),
        "frame_size": tuple(int(v) for v in syn["frame_size"]),
        "seed": int(syn["seed"]),
    }


def read_source(data: Mapping[str, Any], layout: str, root: str, split: str) -> list:
    """The sequences of one dataset (folders, TFDS records, or generated)."""
    if layout == "synthetic":
        return sequences.read_sequences("synthetic", "", split or "train", **synthetic_kwargs(data))
    if data.get("use_tfds", False):
        from data_pipelines import tfds_builders

        return tfds_builders.load_sequences(layout, root, split, data_dir=data.get("tfds_data_dir"))
    return sequences.read_sequences(layout, root, split)


def load_sources(data: Mapping[str, Any]) -> list[Source]:
    """Every dataset of `config.data` with its weight."""
    if data.get("mixture"):
        entries = parse_mixture(data["mixture"], data.get("split", ""))
    else:
        entries = [(data["layout"], data.get("split", ""), data.get("root", ""), 1.0)]
    out = []
    for layout, split, root, weight in entries:
        if layout not in sequences.LAYOUTS:
            raise ConfigError(f"data.layout={layout!r}: expected one of {sequences.LAYOUTS}")
        name = f"{layout}/{split}:{root}" if root else f"{layout}/{split}"
        out.append(Source(name, read_source(data, layout, root, split), weight))
    return out
