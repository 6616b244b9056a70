"""Command-line entry point.

    python -m dsiam_jax.main --config=configs/NAME.py --workdir=DIR [--config.a.b=value ...]

`config.mode` picks the job (see `dsiam_jax.jobs.MODES`). The config is locked, so
a misspelt override fails and names the field.
"""

from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags

from dsiam_jax import jobs
from dsiam_jax.errors import UserError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file (get_config()).", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for outputs, logs and checkpoints.")
flags.mark_flags_as_required(["config", "workdir"])


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv: list[str]) -> list[str]:
    """absl parsing, with config-override mistakes reported in one line."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        _fail(str(e))
    except (KeyError, AttributeError, TypeError, ValueError) as e:
        # ml_collections raises these for unknown fields ("Did you mean ...") and
        # for values of the wrong type; name the override that caused it.
        overrides = [a for a in argv[1:] if a.startswith("--config.")]
        detail = e.args[0] if e.args else repr(e)
        _fail(f"bad config override among {overrides}: {detail}")
    return []


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        config = FLAGS.config
        config.mode  # noqa: B018  (config_flags loads the file lazily; fail here, clearly)
    except OSError as e:
        cause = e.__cause__ or e
        _fail(" ".join(str(cause).split()))
    try:
        config_file = config_flags.get_config_filename(FLAGS["config"])
        jobs.run_job(config, FLAGS.workdir, config_file=config_file)
    except UserError as e:
        # Bad input: one clear line, no JAX traceback. Bugs keep their traceback.
        _fail(str(e))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
