"""An extension that declares actors, for the declaration tests (not under extensions/, so never loaded there)."""

from apps.runners.definitions import Extension

EXTENSION = Extension(name="sample", version="0.1.0", description="declares actors for tests")
