"""Hiding secret-bearing values before they are shown: `legion config`, run payloads to readers without rights."""

from __future__ import annotations

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


def credentials_mask(value: Any, *, secret: bool = False) -> Any:
    """`value` with every credential in it hidden, however deep: all of it when `secret` (the schema says so),
    else the values of credential-named keys and the passwords of URLs (`postgres://user:pw@host`)."""
    if secret:
        return value_mask(value)
    if isinstance(value, dict):
        return {key: credentials_mask(item, secret=isinstance(key, str) and credential_name(key))
                for key, item in value.items()}
    if isinstance(value, list):
        return [credentials_mask(item) for item in value]
    if isinstance(value, str):
        return url_password_mask(value)
    return value


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
