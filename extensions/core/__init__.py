"""The `core` extension: small functions for building and testing chains (log, wait, fail on purpose)."""

from apps.runners.sdk import Extension

EXTENSION = Extension(
    name="core",
    version="1.0.0",
    description="Log a message, wait, echo or split a payload, and fail on purpose: the parts chains are tested with.",
    trigger_words=("core", "log", "wait", "test"),
    capabilities=(),
    settings_schema={
        "type": "object",
        "properties": {"max_wait_seconds": {"type": "number", "default": 300}},
        "additionalProperties": False,
    },
)
