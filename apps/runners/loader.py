"""Finds extensions: packages under `extensions/` and installed packages in the `legion.extensions` entry-point group.

An extension package defines `EXTENSION` in its `__init__` and keeps its runners as modules of its
`runners` subpackage: each module is one runner (named after the module, described by its docstring)
and its functions decorated with `runner_function` are the runner's functions.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import logging
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType

from apps.runners.definitions import SPEC_ATTRIBUTE, Extension, FunctionSpec

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "legion.extensions"
LOCAL_PACKAGE = "extensions"


@dataclass(frozen=True)
class LoadedRunner:
    name: str
    description: str
    trigger_words: tuple[str, ...]
    functions: tuple[FunctionSpec, ...]


@dataclass(frozen=True)
class LoadedExtension:
    extension: Extension
    source: str
    runners: tuple[LoadedRunner, ...]


@dataclass
class LoadResult:
    extensions: list[LoadedExtension] = field(default_factory=list)
    # module path -> why it could not be loaded; a broken extension never stops the others.
    errors: dict[str, str] = field(default_factory=dict)


def extensions_load() -> LoadResult:
    """Import every extension; the first one loaded under a name wins, later duplicates are reported."""
    result = LoadResult()
    seen: set[str] = set()
    for module_path, source in extension_candidates():
        try:
            loaded = extension_load(module_path, source)
        except Exception as exc:  # any import-time failure is reported, not raised
            logger.exception("extension %s could not be loaded", module_path)
            result.errors[module_path] = f"{type(exc).__name__}: {exc}"
            continue
        if loaded.extension.name in seen:
            result.errors[module_path] = f"duplicate extension name '{loaded.extension.name}'"
            continue
        seen.add(loaded.extension.name)
        result.extensions.append(loaded)
    return result


def extension_load(module_path: str, source: str) -> LoadedExtension:
    package = importlib.import_module(module_path)
    declared = getattr(package, "EXTENSION", None)
    if not isinstance(declared, Extension):
        raise TypeError(f"{module_path} has no EXTENSION = Extension(...)")
    runners = tuple(
        _runner_load(importlib.import_module(f"{module_path}.runners.{name}"), declared.name)
        for name in _submodules(f"{module_path}.runners")
    )
    return LoadedExtension(extension=declared, source=source, runners=runners)


def extension_candidates() -> list[tuple[str, str]]:
    local = [(f"{LOCAL_PACKAGE}.{name}", "local") for name in _submodules(LOCAL_PACKAGE)]
    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    installed = [(ep.value, f"entry point {ep.name}") for ep in points]
    return local + installed


def _submodules(package_path: str) -> list[str]:
    try:
        package = importlib.import_module(package_path)
    except ModuleNotFoundError as exc:
        if exc.name == package_path:
            return []
        raise
    return sorted(info.name for info in pkgutil.iter_modules(getattr(package, "__path__", [])))


def _runner_load(module: ModuleType, extension_name: str) -> LoadedRunner:
    runner_name = module.__name__.rsplit(".", 1)[-1]
    functions = []
    for _, member in inspect.getmembers(module, callable):
        spec = getattr(member, SPEC_ATTRIBUTE, None)
        # Only functions defined here belong to this runner, not ones imported from elsewhere.
        if isinstance(spec, FunctionSpec) and getattr(member, "__module__", None) == module.__name__:
            functions.append(dataclasses.replace(spec, runner=runner_name, extension=extension_name))
    doc = inspect.getdoc(module) or ""
    return LoadedRunner(
        name=runner_name,
        description=doc.splitlines()[0] if doc else "",
        trigger_words=tuple(getattr(module, "TRIGGER_WORDS", (runner_name,))),
        functions=tuple(sorted(functions, key=lambda spec: spec.name)),
    )
