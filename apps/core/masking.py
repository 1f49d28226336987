"""Hiding secret-bearing values before they are shown: `legion config`, run payloads to readers without rights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "(set)"  # says a value is there without showing it

# Field and header names that carry credentials wherever they appear (compared lowercase, '-' read as '_'):
# `api_key`, `x-api-key`, `Authorization`, `client_secret`, `access_token`, `smtp_password`, ...
_CREDENTIAL_SUFFIXES = ("password", "passwd", "secret", "token", "api_key", "apikey", "authorization", "cookie",
                        "credentials")


def credential_name(name: str) -> bool:
    """Whether a field or header called `name` holds a credential (`max_tokens` does not: it ends in `tokens`)."""
    return name.lower().replace("-", "_").endswith(_CREDENTIAL_SUFFIXES)


def value_mask(value: Any) -> Any:
    """`value` wholly hidden: MASK when it holds anything, else itself (so "unset" stays visible)."""
    return MASK if value not in (None, "", [], {}) else value


def credentials_mask(value: Any, *, schema: Mapping[str, Any] | None = None) -> Any:
    """`value` with every credential in it hidden, however deep: what its JSON Schema marks `writeOnly` (wholly),
    the values of credential-named keys, and the passwords of URLs (`postgres://user:pw@host`)."""
    return _masked(value, schema or {}, schema or {})


def _masked(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    schema = _resolved(schema, root)
    if schema.get("writeOnly"):
        return value_mask(value)
    if isinstance(value, dict):
        properties = _branch(schema, "properties", root).get("properties", {})
        extra = _branch(schema, "additionalProperties", root).get("additionalProperties")
        return {key: value_mask(item) if isinstance(key, str) and credential_name(key)
                else _masked(item, properties.get(key, extra if isinstance(extra, Mapping) else {}), root)
                for key, item in value.items()}
    if isinstance(value, list):
        items = _branch(schema, "items", root).get("items")
        return [_masked(item, items if isinstance(items, Mapping) else {}, root) for item in value]
    if isinstance(value, str):
        return url_password_mask(value)
    return value


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """A local `$ref` (`#/$defs/Name`, as pydantic writes nested models) replaced by what it names."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    return {**target, **{key: item for key, item in schema.items() if key != "$ref"}}


def _branch(schema: Mapping[str, Any], keyword: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema itself if it has `keyword`, else the first anyOf/oneOf/allOf branch that does (`X | None`)."""
    if keyword in schema:
        return schema
    for combinator in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(combinator, ()):
            resolved = _resolved(option, root) if isinstance(option, Mapping) else {}
            if keyword in resolved:
                return resolved
    return {}


def url_password_mask(text: str) -> str:
    """A URL's password replaced by MASK; any other text unchanged."""
    if "://" not in text or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    if not password:
        return text
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
