"""AES-256-GCM encryption at rest with rotating key ids, and JWT service tokens (PyJWT, HS256)."""

from __future__ import annotations

import base64
import binascii
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from apps.core.config import ConfigurationError

CIPHERTEXT_VERSION = "v1"
NONCE_BYTES = 12
TOKEN_ALGORITHM = "HS256"


class CryptoError(Exception):
    """Ciphertext that cannot be decrypted: unknown key id, bad format or failed authentication."""


class TokenError(Exception):
    """A service token that does not verify; `code` is token_expired or token_invalid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active: str

    @classmethod
    def from_config(cls, keys: dict[str, str], active: str) -> Keyring:
        """Decode base64 keys; each must be 32 bytes and the active id must be among them."""
        decoded: dict[str, bytes] = {}
        for key_id, text in keys.items():
            if not key_id or "." in key_id or ":" in key_id:
                raise ConfigurationError(
                    f"setting 'crypto.keys': key id '{key_id}' may not be empty or hold '.' or ':'"
                )
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ConfigurationError(f"setting 'crypto.keys': key '{key_id}' is not valid base64") from exc
            if len(raw) != 32:
                raise ConfigurationError(f"setting 'crypto.keys': key '{key_id}' is {len(raw)} bytes, AES-256 needs 32")
            decoded[key_id] = raw
        if active not in decoded:
            raise ConfigurationError(f"setting 'crypto.active_key': '{active}' is not one of crypto.keys")
        return cls(keys=decoded, active=active)


@cache
def keyring() -> Keyring:
    return Keyring.from_config(settings.CONFIG["crypto.keys"], settings.CONFIG["crypto.active_key"])


def encrypt(plaintext: bytes | str, *, context: bytes = b"", ring: Keyring | None = None) -> str:
    """Encrypt with the active key: `v1:<key id>:<base64url(nonce | ciphertext | tag)>`.

    `context` is authenticated but not stored (e.g. a table and row id), so a ciphertext copied to
    another row fails to decrypt there.
    """
    ring = ring or keyring()
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.active]).encrypt(nonce, data, _aad(ring.active, context))
    return f"{CIPHERTEXT_VERSION}:{ring.active}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: bytes = b"", ring: Keyring | None = None) -> bytes:
    """Decrypt with whichever key id the ciphertext names, so rotated-out keys still read old data."""
    ring = ring or keyring()
    try:
        version, key_id, body = token.split(":", 2)
        blob = base64.urlsafe_b64decode(body)
    except (ValueError, binascii.Error) as exc:
        raise CryptoError("not a Legion ciphertext") from exc
    if version != CIPHERTEXT_VERSION:
        raise CryptoError(f"unsupported ciphertext version '{version}'")
    if key_id not in ring.keys:
        raise CryptoError(f"unknown key id '{key_id}'")
    try:
        return AESGCM(ring.keys[key_id]).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(key_id, context))
    except InvalidTag as exc:
        raise CryptoError("authentication failed: wrong key, wrong context or tampered data") from exc


def ciphertext_key_id(token: str) -> str:
    """The key id a ciphertext was sealed with, to find data still under a retiring key."""
    return token.split(":", 2)[1]


def _aad(key_id: str, context: bytes) -> bytes:
    # Binding the key id stops a ciphertext from being relabelled with another id.
    return f"{CIPHERTEXT_VERSION}:{key_id}:".encode() + context


def token_issue(subject: str, *, audience: str = "legion", ttl_seconds: int | None = None,
                claims: dict[str, Any] | None = None) -> str:
    """Sign a service token for `subject`; extra claims may not override the registered ones."""
    now = int(time.time())
    ttl = ttl_seconds if ttl_seconds is not None else settings.CONFIG["jwt.ttl_seconds"]
    payload = {**(claims or {}), "iss": settings.CONFIG["jwt.issuer"], "sub": subject, "aud": audience,
               "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    return jwt.encode(payload, settings.CONFIG["jwt.secret"], algorithm=TOKEN_ALGORITHM)


def token_verify(token: str, *, audience: str = "legion") -> dict[str, Any]:
    """Verify signature, issuer, audience and lifetime; return the claims."""
    try:
        return jwt.decode(
            token, settings.CONFIG["jwt.secret"], algorithms=[TOKEN_ALGORITHM], audience=audience,
            issuer=settings.CONFIG["jwt.issuer"], options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token_expired", "the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("token_invalid", f"the token is not valid: {exc}") from exc
