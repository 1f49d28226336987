"""Extension settings: the `extensions.<name>.<key>` entries of Legion's settings, as a JSON schema and as values.

An extension's settings are ordinary Legion settings (layered, typed, secret references resolved at startup),
declared in `apps/core/config/schema.py` under `extensions.<name>.`. The extension's declared
`settings_schema` is built from those entries, so the catalog and the settings reference cannot disagree.
"""

from __future__ import annotations

from typing import Any

from apps.core.config.schema import SETTINGS, Setting
from apps.runners.definitions import PermanentError

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _prefix(extension: str) -> str:
    return f"extensions.{extension}."


def extension_settings_schema(extension: str) -> dict[str, Any]:
    """A JSON schema of the extension's settings; secrets are marked `writeOnly` and never show a default."""
    properties: dict[str, Any] = {}
    for setting in _settings_of(extension):
        entry: dict[str, Any] = {"type": _JSON_TYPES[setting.kind], "description": setting.doc}
        if setting.choices:
            entry["enum"] = list(setting.choices)
        if setting.secret:
            entry["writeOnly"] = True
        elif not callable(setting.default) and setting.default is not None:
            entry["default"] = setting.default
        properties[setting.key.removeprefix(_prefix(extension))] = entry
    return {"type": "object", "properties": properties, "additionalProperties": False}


def extension_settings(extension: str) -> dict[str, Any]:
    """The effective values of the extension's settings, keyed without the `extensions.<name>.` prefix."""
    from django.conf import settings

    return {setting.key.removeprefix(_prefix(extension)): settings.CONFIG[setting.key]
            for setting in _settings_of(extension)}


class UnknownConnection(PermanentError):
    code = "unknown_connection"


def extension_connection(extension: str, name: str) -> str:
    """The URL of connection `name` in the extension's `connections` setting (secret references already resolved)."""
    connections = extension_settings(extension)["connections"]
    url = connections.get(name)
    if not url:
        known = ", ".join(sorted(connections)) or "none"
        raise UnknownConnection(f"no connection '{name}' in extensions.{extension}.connections (known: {known})")
    return str(url)


def _settings_of(extension: str) -> list[Setting]:
    return [setting for setting in SETTINGS if setting.key.startswith(_prefix(extension))]
