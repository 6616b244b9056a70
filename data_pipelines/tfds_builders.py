"""TFDS builders over the dataset folders (manual_dir): prepare once, train from the records.

One `GeneratorBasedBuilder` per layout (`got10k_sequences`, `lasot_sequences`,
`trackingnet_sequences`, `imagenet_vid_sequences`, `otb_sequences`,
`folder_sequences`). An example is one sequence: its name, the frame paths
(relative to the dataset root), boxes `[N, 4]` (x, y, w, h; NaN = unannotated),
visibility `[N]` and frame size. Preparing parses and checks every annotation file
once (ImageNet VID's million XML files, LaSOT's 1400 folders) and stores the result
as records; the frames themselves stay in the dataset folder (nothing is copied),
and training reads them from `data.root`.

    python -m data_pipelines.prepare_tfds --layout=got10k --root=/data/GOT-10k
    # then train with --config.data.use_tfds=True --config.data.root=/data/GOT-10k

Fully offline: the builders have no URLs; `manual_dir` is the dataset root.
"""

from __future__ import annotations

import pathlib

import numpy as np
import tensorflow_datasets as tfds

from data_pipelines import sequences
from data_pipelines.sequences import DatasetError, Sequence
from dsiam_jax.errors import InputFileError, UserError


class SequenceRecords(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Base builder: the sequences of one layout, one example per sequence."""

    LAYOUT = ""
    SPLITS: tuple[str, ...] = ()
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Sequence annotations; frames stay in the dataset folder."}

    # No code folder: these builders have no checksums or metadata files, and TFDS's
    # lookup of them needs `importlib_resources`, which tensorflow-datasets does not
    # pull in.
    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        return None

    @property
    def MANUAL_DOWNLOAD_INSTRUCTIONS(self) -> str:  # noqa: N802 (TFDS attribute name)
        return f"manual_dir is the root of the {self.LAYOUT} dataset in its official layout."

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "index": np.int64,  # position in the reader's order
                    "name": tfds.features.Text(),
                    "frames": tfds.features.Sequence(tfds.features.Text()),
                    "boxes": tfds.features.Tensor(shape=(None, 4), dtype=np.float64),
                    "visible": tfds.features.Tensor(shape=(None,), dtype=np.bool_),
                    "image_size": tfds.features.Tensor(shape=(2,), dtype=np.int32),
                }
            ),
            description=f"{self.LAYOUT} tracking sequences (annotations and frame paths).",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        root = pathlib.Path(dl_manager.manual_dir)
        found = {}
        for split in self.SPLITS:
            try:
                seqs = sequences.read_sequences(self.LAYOUT, str(root), split)
            except (InputFileError, DatasetError) as e:
                if "no sequences found" in str(e) or isinstance(e, InputFileError):
                    continue  # this split is not in the folder
                raise
            found[split] = self._generate_examples(root, seqs)
        if not found:
            raise DatasetError(f"{self.LAYOUT}: no split of {self.SPLITS} found under {root}")
        return found

    def _generate_examples(self, root: pathlib.Path, seqs: list[Sequence]):
        for index, seq in enumerate(seqs):
            frames = [str(pathlib.Path(f).relative_to(root)) for f in seq.frames]
            key = f"{pathlib.Path(frames[0]).parent}/{seq.name}"
            yield (
                key,
                {
                    "index": index,
                    "name": seq.name,
                    "frames": frames,
                    "boxes": np.asarray(seq.boxes, np.float64),
                    "visible": np.asarray(seq.visible, bool),
                    "image_size": np.asarray(seq.image_size or (0, 0), np.int32),
                },
            )


class Got10kSequences(SequenceRecords):
    """GOT-10k sequences (train / val / test)."""

    LAYOUT, SPLITS = "got10k", ("train", "val", "test")


class LasotSequences(SequenceRecords):
    """LaSOT sequences (protocol-II train / test)."""

    LAYOUT, SPLITS = "lasot", ("train", "test")


class TrackingnetSequences(SequenceRecords):
    """TrackingNet sequences (train = every TRAIN_<k> chunk, test)."""

    LAYOUT, SPLITS = "trackingnet", ("train", "test")


class ImagenetVidSequences(SequenceRecords):
    """ImageNet VID track sequences (train / val)."""

    LAYOUT, SPLITS = "imagenet_vid", ("train", "val")


class OtbSequences(SequenceRecords):
    """OTB sequences (one split, `all`)."""

    LAYOUT, SPLITS = "otb", ("all",)


class FolderSequences(SequenceRecords):
    """Plain folder sequences (one split, `all`)."""

    LAYOUT, SPLITS = "folder", ("all",)


BUILDERS: dict[str, type[SequenceRecords]] = {
    b.LAYOUT: b
    for b in (
        Got10kSequences,
        LasotSequences,
        TrackingnetSequences,
        ImagenetVidSequences,
        OtbSequences,
        FolderSequences,
    )
}


def builder_for(layout: str, data_dir: str | None = None) -> SequenceRecords:
    """The builder of `layout` (records under `data_dir`, default ~/tensorflow_datasets)."""
    if layout not in BUILDERS:
        raise UserError(
            f"no TFDS builder for layout {layout!r}: expected one of {sorted(BUILDERS)}"
        )
    return BUILDERS[layout](data_dir=data_dir or None)


def prepare(layout: str, root: str, data_dir: str | None = None) -> SequenceRecords:
    """Parses the dataset folder `root` once and writes the records (download_and_prepare)."""
    path = pathlib.Path(root).expanduser()
    if not root or not path.is_dir():
        raise InputFileError(f"dataset root not found for layout {layout!r}: {root!r}")
    builder = builder_for(layout, data_dir)
    config = tfds.download.DownloadConfig(manual_dir=str(path.resolve()))
    builder.download_and_prepare(download_config=config)
    return builder


def load_sequences(
    layout: str, root: str, split: str, data_dir: str | None = None
) -> list[Sequence]:
    """Sequences of `split` from prepared records; frame paths are resolved under `root`."""
    builder = builder_for(layout, data_dir)
    split = split or builder.SPLITS[0]
    if not builder.is_prepared():
        raise DatasetError(
            f"TFDS records for {layout!r} are not prepared in {builder.data_dir}: run "
            f"python -m data_pipelines.prepare_tfds --layout={layout} --root=DATASET_ROOT"
        )
    if split not in builder.info.splits:
        raise DatasetError(
            f"{layout} records have splits {list(builder.info.splits)}, not {split!r}"
        )
    base = pathlib.Path(root).expanduser()
    if not root or not base.is_dir():
        raise InputFileError(
            f"data.root must be the {layout} folder the records point into: {root!r}"
        )
    out = []
    records = tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False))
    for ex in sorted(records, key=lambda ex: int(ex["index"])):  # the reader's order
        size = tuple(int(v) for v in ex["image_size"])
        out.append(
            Sequence(
                name=ex["name"].decode(),
                frames=[str(base / f.decode()) for f in ex["frames"]],
                boxes=np.asarray(ex["boxes"], np.float64),
                visible=np.asarray(ex["visible"], bool),
                dataset=layout,
                image_size=size if size[0] > 0 else None,
            )
        )
    if not out:
        raise DatasetError(f"{layout} records: split {split!r} is empty")
    return out
