"""API key material: the `lgn_<prefix>_<secret>` format, generation, and hashing with constant-time checks.

Only the prefix (to find the row) and the SHA-256 of the secret are stored. A plain hash suffices: the
secret is 256 random bits, so there is nothing for a slow or salted hash to protect against.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

KEY_SCHEME = "lgn"
PREFIX_LENGTH = 8
SECRET_BYTES = 32  # token_urlsafe(32) gives 43 characters
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_KEY = re.compile(rf"\A{KEY_SCHEME}_([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{32,256}})\Z")
# Compared against when the prefix is unknown, so a miss costs about what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"legion-no-such-key").hexdigest()


@dataclass(frozen=True)
class KeyMaterial:
    prefix: str
    secret: str

    @property
    def raw(self) -> str:
        return f"{KEY_SCHEME}_{self.prefix}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return secret_hash(self.secret)


def key_generate() -> KeyMaterial:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return KeyMaterial(prefix=prefix, secret=secrets.token_urlsafe(SECRET_BYTES))


def key_parse(raw: str) -> KeyMaterial | None:
    """The prefix and secret of a well-formed key, or None for anything else."""
    match = _KEY.match(raw)
    return KeyMaterial(prefix=match[1], secret=match[2]) if match else None


def looks_like_key(raw: str) -> bool:
    """Whether a bearer token claims to be a Legion key (other bearer schemes may share the header)."""
    return raw.startswith(f"{KEY_SCHEME}_")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented secret with a stored hash (None: unknown prefix)."""
    return hmac.compare_digest(secret_hash(secret), stored_hash or _DUMMY_HASH) and stored_hash is not None
