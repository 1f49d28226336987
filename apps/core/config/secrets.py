"""Secret references (`env://`, `file://`, `vault://`) and fallback chains that resolve them."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hvac
import hvac.exceptions
import requests

SCHEMES = ("env", "file", "vault")
_REFERENCE = re.compile(r"^(?P<scheme>[a-z]+)://(?P<body>.*)$", re.DOTALL)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretReferenceError(ValueError):
    """A value looks like a secret reference but is malformed."""


@dataclass(frozen=True)
class Reference:
    scheme: str
    target: str
    key: str | None = None

    def __str__(self) -> str:
        suffix = f"#{self.key}" if self.key else ""
        return f"{self.scheme}://{self.target}{suffix}"


@dataclass(frozen=True)
class VaultAccess:
    """Where Vault lives; `addr` None means no Vault is configured."""

    addr: str | None
    token: str | None
    timeout: float = 5.0


@dataclass(frozen=True)
class Resolution:
    value: str | None
    reason: str = ""


def reference_parse(text: str) -> Reference | None:
    """Return the reference `text` names, None for a plain value; raise if it is malformed.

    Only the three secret schemes count as references, so ordinary URLs (amqp://, redis://) stay values.
    """
    match = _REFERENCE.match(text)
    if not match or match["scheme"] not in SCHEMES:
        return None
    scheme, body = match["scheme"], match["body"]
    if scheme == "env":
        if not _ENV_NAME.match(body):
            raise SecretReferenceError(f"'{text}': env:// needs a variable name such as env://DATABASE_PASSWORD")
        return Reference("env", body)
    if scheme == "file":
        if not body.startswith("/") or body == "/":
            raise SecretReferenceError(f"'{text}': file:// needs an absolute path such as file:///run/secrets/db")
        return Reference("file", body)
    target, _, key = body.partition("#")
    parts = [p for p in target.split("/") if p]
    if len(parts) < 2 or not key or "/" in key or target != "/".join(parts):
        raise SecretReferenceError(f"'{text}': vault:// needs a mount, a path and a key such as vault://secret/legion/db#password")
    return Reference("vault", target, key)


def reference_resolve(ref: Reference, *, vault: VaultAccess) -> Resolution:
    """Look one reference up; an unresolvable reference returns a reason rather than raising."""
    if ref.scheme == "env":
        value = os.environ.get(ref.target)
        return Resolution(value) if value else Resolution(None, f"environment variable {ref.target} is not set")
    if ref.scheme == "file":
        path = Path(ref.target)
        try:
            return Resolution(path.read_text().rstrip("\r\n"))
        except FileNotFoundError:
            return Resolution(None, f"file {path} does not exist")
        except OSError as exc:
            return Resolution(None, f"file {path} cannot be read: {exc.strerror}")
    return _vault_read(ref, vault)


def _vault_read(ref: Reference, vault: VaultAccess) -> Resolution:
    if not vault.addr:
        return Resolution(None, "no Vault is configured (set vault.addr or VAULT_ADDR)")
    mount, _, path = ref.target.partition("/")
    client = hvac.Client(url=vault.addr, token=vault.token, timeout=vault.timeout)
    try:
        response = client.secrets.kv.v2.read_secret_version(path=path, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        return Resolution(None, f"Vault has no secret at {mount}/{path}")
    except hvac.exceptions.Forbidden:
        return Resolution(None, f"Vault denied access to {mount}/{path} (check the token's policy)")
    except hvac.exceptions.VaultError as exc:
        return Resolution(None, f"Vault answered with an error for {mount}/{path}: {exc}")
    except requests.RequestException as exc:
        return Resolution(None, f"Vault at {vault.addr} is unreachable: {type(exc).__name__}")
    data = response.get("data", {}).get("data", {})
    if ref.key not in data:
        return Resolution(None, f"Vault secret {mount}/{path} has no key '{ref.key}'")
    return Resolution(str(data[ref.key]))


def chain_resolve(candidates: Sequence[str], *, vault: VaultAccess) -> Resolution:
    """Resolve a fallback chain: the first candidate that yields a value wins.

    A candidate that is not a reference is a literal and always wins when reached. When nothing
    resolves, the reason lists every reference tried and why it failed.
    """
    failures: list[str] = []
    for candidate in candidates:
        ref = reference_parse(candidate)
        if ref is None:
            return Resolution(candidate)
        resolution = reference_resolve(ref, vault=vault)
        if resolution.value is not None:
            return resolution
        failures.append(f"{ref}: {resolution.reason}")
    return Resolution(None, "; ".join(failures) or "empty fallback chain")
