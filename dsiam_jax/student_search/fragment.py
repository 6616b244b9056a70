"""The `student.py` config fragment: a searched student, as distillation reads it.

A search writes WORKDIR/student.py; a distillation run takes it with
`--config.distill.students_from=WORKDIR/student.py`, which replaces the widths of
every student of `config.distill.students` (their number stays) and
`config.distill.student_head_channels`. The file is plain Python with literal
assignments only (read with `ast.literal_eval`, never executed):

    KIND = "siamfc"
    CHANNELS = (24, 64, 96, 96, 64)
    HEAD_CHANNELS = 0
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from dsiam_jax.errors import ConfigError, InputFileError

FIELDS = ("KIND", "CHANNELS", "HEAD_CHANNELS")


@dataclasses.dataclass(frozen=True)
class SearchedStudent:
    """The widths a search chose for a teacher of `kind`."""

    kind: str
    channels: tuple[int, ...]
    head_channels: int


def _note_lines(notes: Mapping[str, Any], indent: str) -> list[str]:
    """`key: value` lines, a mapping value as an indented block below its key, each
    line wrapped to 88 characters (the fragment stays within ruff's line length)."""
    out = []
    for key, value in notes.items():
        if isinstance(value, Mapping):
            out += [f"{indent}{key}:", *_note_lines(value, indent + "    ")]
        else:
            line = f"{key}: {value}"
            out += textwrap.wrap(line, 88, initial_indent=indent, subsequent_indent=indent + "    ")
    return out


def write_student(
    path: str | pathlib.Path,
    student: SearchedStudent,
    notes: Mapping[str, Any],
) -> pathlib.Path:
    """Writes the fragment; `notes` (reward, params, ...) go into its docstring."""
    path = pathlib.Path(path)
    lines = _note_lines(notes, "    ")
    text = "\n".join(
        [
            '"""A student found by mode=student_search; distil it with',
            "",
            "    python -m dsiam_jax.main --config=configs/"
            f"{'dstfc' if student.kind == 'siamfc' else 'dstrpn'}.py \\",
            f"        --config.distill.students_from={path.resolve()} \\",
            "        --config.teacher.checkpoint=TEACHER --workdir=W",
            "",
            "Search result:",
            *lines,
            '"""',
            "",
            f'KIND = "{student.kind}"',
            f"CHANNELS = {tuple(int(c) for c in student.channels)!r}",
            f"HEAD_CHANNELS = {int(student.head_channels)!r}",
            "",
        ]
    )
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def read_student(path: str | pathlib.Path) -> SearchedStudent:
    """The student of a fragment written by `write_student`; a `UserError` names the
    file and what is wrong with it."""
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise InputFileError(f"distill.students_from={path}: no such file")
    try:
        tree = ast.parse(path.read_text(), str(path))
    except SyntaxError as e:
        raise ConfigError(f"distill.students_from={path}: not Python ({e})") from e
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in FIELDS:
                try:
                    values[name] = ast.literal_eval(node.value)
                except ValueError as e:
                    raise ConfigError(f"{path}: {name} is not a literal") from e
    missing = [f for f in FIELDS if f not in values]
    if missing:
        raise ConfigError(f"distill.students_from={path}: missing {missing}")
    channels = values["CHANNELS"]
    if not isinstance(channels, Sequence) or not all(isinstance(c, int) for c in channels):
        raise ConfigError(f"{path}: CHANNELS={channels!r} must be a tuple of ints")
    return SearchedStudent(str(values["KIND"]), tuple(channels), int(values["HEAD_CHANNELS"]))


def students_for(
    path: str, teacher_kind: str, num_students: int
) -> tuple[list[tuple[int, ...]], int]:
    """`num_students` copies of the fragment's channel list and its head width, for a
    teacher of `teacher_kind` (a fragment searched for another kind is an error)."""
    student = read_student(path)
    if student.kind != teacher_kind:
        raise ConfigError(
            f"distill.students_from={path} holds a {student.kind} student, but the "
            f"teacher is {teacher_kind}"
        )
    return [student.channels] * max(1, num_students), student.head_channels
