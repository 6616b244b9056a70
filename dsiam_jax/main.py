"""Command-line entry point.

    python -m dsiam_jax.main --config=configs/NAME.py --workdir=DIR [--config.a.b=value ...]

`config.mode` picks the job (see `dsiam_jax.jobs.MODES`). The config is locked, so
a misspelt override fails and names the field; a tuple override must hold the kind of
numbers its default holds (`--config.model.channels="(8,16.7,...)"` fails). Bad input
(a `UserError`) and storage faults (full disk, read-only workdir) end with one
`error:` line and exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

from absl import app, flags
from ml_collections import config_flags

from dsiam_jax import jobs
from dsiam_jax.errors import UserError
from dsiam_jax.workdir import storage_failure

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file (get_config()).", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for outputs, logs and checkpoints.")
flags.mark_flags_as_required(["config", "workdir"])


def _fail(message: str) -> None:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


def _root_message(error: BaseException) -> str:
    """The text of the innermost exception ml_collections wrapped (a KeyError's message
    is its argument, not its repr)."""
    while error.args and isinstance(error.args[0], BaseException):
        error = error.args[0]
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error) or repr(error)


def _flag_message(message: str) -> str:
    """A flag error in one line: ml_collections puts the whole traceback of a config
    file's `get_config` into its message; keep the exception's own line."""
    head, found, trace = message.partition("Traceback (most recent call last):")
    if not found:
        return message
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    return f"{head.strip()} {lines[-1]}" if lines else head


def _override_named(argv: list[str], message: str) -> str | None:
    """The `--config.x=v` argument whose path contains the field quoted first in `message`."""
    field = message.split("\n", 1)[0].strip().strip("'\"")
    for arg in argv[1:]:
        path = arg.split("=", 1)[0].removeprefix("--config.")
        if arg.startswith("--config.") and field in path.split("."):
            return arg
    return None


def parse_flags(argv: list[str]) -> list[str]:
    """absl parsing, with config-override mistakes reported in one line."""
    try:
        rest = FLAGS(argv)
    except flags.Error as e:
        _fail(_flag_message(str(e)))
    except (KeyError, AttributeError, TypeError, ValueError) as e:
        # ml_collections raises these for unknown fields ("Did you mean ...") and for
        # values of the wrong type; name the override that caused it.
        message = _root_message(e)
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        arg = _override_named(argv, message)
        if arg and len(lines) > 1:  # "'modle'" + "Did you mean ...": say it plainly
            _fail(f"{arg}: no such config field. {' '.join(lines[1:])}")
        where = arg or f"one of {[a for a in argv[1:] if a.startswith('--config.')]}"
        _fail(f"bad config override {where}: {' '.join(lines)}")
    check_override_types()
    return rest


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_override_types() -> None:
    """Tuple overrides keep the element kind of their default (ml_collections checks
    scalars, not tuple elements): integers stay integers, numbers stay numbers."""
    for name in FLAGS:
        flag = FLAGS[name]
        if not name.startswith("config.") or not flag.present:
            continue
        default = _leaves(flag.default) if isinstance(flag.default, list | tuple) else []
        if not default:
            continue
        value = _leaves(flag.value)
        if all(_is_int(d) for d in default):
            kind, ok = "an integer", _is_int
        elif all(_is_real(d) for d in default):
            kind, ok = "a number", _is_real
        else:
            continue
        bad = [v for v in value if not ok(v)]
        if bad:
            shown = tuple(flag.default) if isinstance(flag.default, list) else flag.default
            _fail(
                f"--{name}: {', '.join(repr(b) for b in bad)} is not {kind} "
                f"(the default is {shown})"
            )


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
    except OSError as e:
        reason = storage_failure(e)  # full disk, read-only folder, no permission: not a bug
        if reason is None:
            raise
        _fail(reason)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
