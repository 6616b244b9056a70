"""Imports go one way: main -> jobs -> library (and data_pipelines); evaluation -> tracking.

Every module's imports are read with `ast` (module level and inside functions, plain
and `from` imports, and "module:function" strings imported lazily), not executed.
"""

import ast
import pathlib
import re

import pytest
from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "dsiam_jax"
# A "module" or "module:function" string naming a module that is imported lazily.
_MODULE_STRING = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?$")


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, name: str) -> set[str]:
    """Every module `source` (the module `name`) imports, in full dotted form.

    `from a import b` counts as both `a` and `a.b` (b may be a submodule); relative
    imports are resolved against `name`; string constants of the form
    "pkg.module" or "pkg.module:function" that start with `dsiam_jax.` or
    `data_pipelines` count too (lazy `importlib` imports).
    """
    out: set[str] = set()
    package = name.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + (1 if _is_package(name) else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text.startswith(("dsiam_jax.", "data_pipelines")) and _MODULE_STRING.match(text):
                out.add(text.split(":")[0])
    return out


def _is_package(name: str) -> bool:
    return (REPO_ROOT / pathlib.Path(*name.split(".")) / "__init__.py").is_file()


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def library_modules() -> dict[str, set[str]]:
    """`{module: its imports}` for every module of dsiam_jax/ except the CLI and jobs/."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == "dsiam_jax.main" or _within(name, "dsiam_jax.jobs"):
            continue
        out[name] = imported_modules(path.read_text(), name)
    return out


def violations(modules: dict[str, set[str]], owner: str, forbidden: tuple[str, ...]) -> list[str]:
    """'module -> import' for every module under `owner` that imports a `forbidden` one."""
    return sorted(
        f"{name} -> {imp}"
        for name, imports in modules.items()
        if _within(name, owner)
        for imp in imports
        if any(_within(imp, f) for f in forbidden)
    )


@pytest.fixture(scope="module")
def modules():
    found = library_modules()
    assert len(found) > 50 and "dsiam_jax.train.trainer" in found  # the walk found the library
    return found


def test_the_library_imports_neither_jobs_nor_data_pipelines(modules):
    assert violations(modules, "dsiam_jax", ("data_pipelines", "dsiam_jax.jobs")) == []


def test_tracking_does_not_import_evaluation(modules):
    assert violations(modules, "dsiam_jax.tracking", ("dsiam_jax.evaluation",)) == []


def test_only_main_imports_the_jobs_from_outside_them():
    main = imported_modules((PACKAGE / "main.py").read_text(), "dsiam_jax.main")
    assert "dsiam_jax.jobs" in main


def test_the_checker_sees_every_form_of_import():
    source = """
import data_pipelines.pairs
from dsiam_jax import jobs
from . import results_io
from ..jobs import train

def f():
    from data_pipelines.sequences import read_sequences

LAZY = {"x": "dsiam_jax.jobs.track:run"}
DOC = "see dsiam_jax.jobs for the modes"
"""
    found = imported_modules(source, "dsiam_jax.tracking.runner")
    assert {
        "data_pipelines.pairs",
        "dsiam_jax.jobs",
        "dsiam_jax.tracking.results_io",
        "dsiam_jax.jobs.train",
        "data_pipelines.sequences",
        "dsiam_jax.jobs.track",
    } <= found
    assert not any("for the modes" in m for m in found)
    bad = violations(
        {"dsiam_jax.tracking.runner": found}, "dsiam_jax", ("data_pipelines", "dsiam_jax.jobs")
    )
    assert len(bad) == 6
