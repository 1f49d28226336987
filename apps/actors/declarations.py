"""Actors declared by extensions: an `actors` module (or package) next to `runners`, with `ACTORS = (...)`.

```python
# extensions/<name>/actors.py
from apps.actors.declarations import ActorDeclaration

ACTORS = (
    ActorDeclaration(name="heartbeat", kind="every", function="core.basic.log",
                     payload={"message": "still here"}, options={"interval_seconds": 60}),
)
```

The actor's row is named `<extension>.<name>`; `legion actors` (and `legion actors sync`) create
it from the declaration, which stays the source of its settings until someone edits it in the admin
or the API. An extension whose actors module fails to import is reported; the others still load.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from apps.runners.definitions import Extension
from apps.runners.loader import extension_candidates

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActorDeclaration:
    name: str
    kind: str
    function: str | None = None  # qualified name, e.g. core.basic.log
    chain: str | None = None  # chain name
    payload: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""


@dataclass
class Declared:
    actors: list[tuple[str, ActorDeclaration]] = field(default_factory=list)  # (extension name, declaration)
    errors: dict[str, str] = field(default_factory=dict)


def declarations_load(candidates: list[tuple[str, str]] | None = None) -> Declared:
    """Every extension's declared actors; `candidates` are (package path, source) pairs, default the loader's."""
    declared = Declared()
    for module_path, _source in extension_candidates() if candidates is None else candidates:
        try:
            extension = getattr(importlib.import_module(module_path), "EXTENSION", None)
            if not isinstance(extension, Extension):
                continue  # the runner loader reports it
            module = importlib.import_module(f"{module_path}.actors")
        except ModuleNotFoundError as exc:
            if exc.name != f"{module_path}.actors":
                declared.errors[module_path] = f"{type(exc).__name__}: {exc}"
            continue
        except Exception as exc:  # a broken extension is reported, never stops the others
            logger.exception("actors of %s could not be loaded", module_path)
            declared.errors[module_path] = f"{type(exc).__name__}: {exc}"
            continue
        for item in getattr(module, "ACTORS", ()):
            if isinstance(item, ActorDeclaration):
                declared.actors.append((extension.name, item))
            else:
                declared.errors[module_path] = f"ACTORS holds {type(item).__name__}, not ActorDeclaration"
    return declared
