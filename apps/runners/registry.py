"""The in-process registry: every loaded runner function by its qualified name `<ext>.<runner>.<function>`."""

from __future__ import annotations

import threading

from apps.runners.definitions import FunctionSpec
from apps.runners.loader import LoadResult, extensions_load

_lock = threading.Lock()
_loaded: LoadResult | None = None
_by_name: dict[str, FunctionSpec] = {}


def registry_load(*, reload: bool = False) -> LoadResult:
    """Load extensions once per process (imports are the expensive part); `reload` forces a fresh scan."""
    global _loaded, _by_name
    with _lock:
        if _loaded is None or reload:
            loaded = extensions_load()
            _by_name = {
                spec.qualified_name: spec
                for extension in loaded.extensions
                for runner in extension.runners
                for spec in runner.functions
            }
            _loaded = loaded
        return _loaded


def function_spec_get(qualified_name: str) -> FunctionSpec | None:
    registry_load()
    return _by_name.get(qualified_name)
