"""Test-split results zipped in the layouts the GOT-10k and TrackingNet servers take.

    path = write_server_zip("got10k", result_dir, sequence_names, "W3/student_got10k.zip")

Reads the evaluator's result files (`results/<tracker>/<seq>.txt`, one "x,y,w,h" per
frame with frame 1 = the initial box, and `<seq>_time.txt`; `results_io`) and writes:

- `got10k` (GOT-10k test server, http://got-10k.aitestunion.com/submit_instructions):
  one folder per sequence at the zip root, `<seq>/<seq>_001.txt` (one line per frame,
  `x,y,w,h` comma-separated, 3 decimals) and `<seq>/<seq>_time.txt` (seconds per
  frame, one per line). This is what the got10k toolkit's `ExperimentGOT10k` writes
  (`_record`: `np.savetxt(record_file, boxes, fmt='%.3f', delimiter=',')`, record
  `'%s_%03d.txt' % (seq_name, r + 1)`, times in `<seq>_time.txt`) and zips from
  inside `results/<tracker>` (`report`: `compress('.', '../<tracker>')`, i.e.
  `shutil.make_archive`); pytracking's `util_scripts/pack_got10k_results.py` packs
  the same layout. A deterministic tracker gives one repetition (`_001`); the
  toolkit skips repetitions 2-3 for such trackers (`tracker.is_deterministic`).
- `trackingnet` (TrackingNet test server, linked from
  github.com/SilvioGiancola/TrackingNet-devkit): one `<seq>.txt` per sequence at the
  zip root, one comma-separated `x,y,w,h` line per frame (pytracking's
  `util_scripts/pack_trackingnet_results.py`: `np.savetxt('{}/{}.txt'.format(output_path,
  seq_name), results, delimiter=',', ...)` then `shutil.make_archive`).
"""

from __future__ import annotations

import io
import pathlib
import zipfile
from collections.abc import Iterable

import numpy as np

from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation import results_io
from dsiam_jax.workdir import safe_name

SERVERS = ("got10k", "trackingnet")


def _text(values: np.ndarray, fmt: str, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    np.savetxt(buffer, values, fmt=fmt, delimiter=delimiter)
    return buffer.getvalue()


def server_entries(
    server: str, result_dir: str | pathlib.Path, sequences: Iterable[str]
) -> dict[str, str]:
    """`{path inside the zip: file text}` for `server` from the result files of `sequences`
    (their names as the server knows them) in `result_dir`."""
    if server not in SERVERS:
        raise ConfigError(f"config.eval.package={server!r}: expected '' or one of {SERVERS}")
    result_dir = pathlib.Path(result_dir)
    entries: dict[str, str] = {}
    for name in sequences:
        boxes = results_io.read_boxes(result_dir / f"{safe_name(name)}.txt")  # [N, 4]
        if server == "trackingnet":
            entries[f"{name}.txt"] = _text(boxes, "%.3f")
            continue
        entries[f"{name}/{name}_001.txt"] = _text(boxes, "%.3f")
        time_file = result_dir / f"{safe_name(name)}_time.txt"
        times = results_io.read_values(time_file) if time_file.is_file() else np.zeros(0)
        if len(times) != len(boxes):  # unknown times: the toolkit leaves out non-positive ones
            times = np.zeros(len(boxes))
        entries[f"{name}/{name}_time.txt"] = _text(times[:, None], "%.8f")
    return entries


def write_server_zip(
    server: str,
    result_dir: str | pathlib.Path,
    sequences: Iterable[str],
    zip_path: str | pathlib.Path,
) -> pathlib.Path:
    """Writes the `server` layout (`SERVERS`) of `sequences`' results as `zip_path`."""
    entries = server_entries(server, result_dir, sequences)
    zip_path = pathlib.Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in entries.items():
            z.writestr(path, text)
    tmp.replace(zip_path)
    return zip_path
