"""AES-256-GCM at rest with key ids (rotation, tamper detection) and JWT service tokens."""

from __future__ import annotations

import base64
import os

import pytest
from django.test import override_settings

from apps.core.config import ConfigurationError
from apps.core.crypto import (
    CryptoError,
    Keyring,
    TokenError,
    ciphertext_key_id,
    decrypt,
    encrypt,
    token_issue,
    token_verify,
)


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def ring() -> Keyring:
    return Keyring.from_config({"old": b64key(), "new": b64key()}, active="new")


def test_round_trip_names_the_active_key(ring: Keyring) -> None:
    sealed = encrypt("card 4111", ring=ring)
    assert ciphertext_key_id(sealed) == "new"
    assert "4111" not in sealed
    assert decrypt(sealed, ring=ring) == b"card 4111"


def test_each_encryption_uses_a_fresh_nonce(ring: Keyring) -> None:
    assert encrypt(b"same", ring=ring) != encrypt(b"same", ring=ring)


def test_data_under_a_rotated_out_key_still_decrypts(ring: Keyring) -> None:
    old_ring = Keyring(keys=ring.keys, active="old")
    sealed = encrypt(b"from last year", ring=old_ring)
    assert decrypt(sealed, ring=ring) == b"from last year"


def test_tampered_ciphertext_fails_authentication(ring: Keyring) -> None:
    sealed = encrypt(b"payload", ring=ring)
    body = bytearray(base64.urlsafe_b64decode(sealed.split(":", 2)[2]))
    body[-1] ^= 1
    forged = f"v1:new:{base64.urlsafe_b64encode(bytes(body)).decode()}"
    with pytest.raises(CryptoError, match="authentication failed"):
        decrypt(forged, ring=ring)


def test_relabelled_key_id_fails(ring: Keyring) -> None:
    both_same = Keyring(keys={"a": ring.keys["new"], "b": ring.keys["new"]}, active="a")
    sealed = encrypt(b"x", ring=both_same)
    with pytest.raises(CryptoError):
        decrypt(sealed.replace("v1:a:", "v1:b:"), ring=both_same)


def test_ciphertext_is_bound_to_its_context(ring: Keyring) -> None:
    sealed = encrypt(b"row 1 secret", context=b"table:1", ring=ring)
    with pytest.raises(CryptoError):
        decrypt(sealed, context=b"table:2", ring=ring)


def test_unknown_key_id_is_reported(ring: Keyring) -> None:
    sealed = encrypt(b"x", ring=ring)
    with pytest.raises(CryptoError, match="unknown key id 'gone'"):
        decrypt(sealed.replace(":new:", ":gone:"), ring=ring)


@pytest.mark.parametrize(
    ("keys", "active", "problem"),
    [
        ({"k": "not base64!"}, "k", "not valid base64"),
        ({"k": base64.b64encode(b"short").decode()}, "k", "AES-256 needs 32"),
        ({"k": b64key()}, "missing", "not one of crypto.keys"),
        ({"a.b": b64key()}, "a.b", "may not be empty"),
    ],
)
def test_bad_keys_fail_with_the_setting_named(keys: dict[str, str], active: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Keyring.from_config(keys, active)


def test_the_configured_keyring_encrypts() -> None:
    assert decrypt(encrypt("configured")) == b"configured"


def test_service_token_round_trip() -> None:
    token = token_issue("svc:fleet-worker", claims={"lane": "local"})
    claims = token_verify(token)
    assert claims["sub"] == "svc:fleet-worker"
    assert claims["lane"] == "local"
    assert claims["iss"] == "legion"


def test_expired_token_is_rejected_with_its_code() -> None:
    token = token_issue("svc:x", ttl_seconds=-60)
    with pytest.raises(TokenError) as raised:
        token_verify(token)
    assert raised.value.code == "token_expired"


def test_token_for_another_audience_is_rejected() -> None:
    token = token_issue("svc:x", audience="fleet")
    with pytest.raises(TokenError) as raised:
        token_verify(token, audience="legion")
    assert raised.value.code == "token_invalid"


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = token_issue("svc:x")
    from django.conf import settings

    other = {**settings.CONFIG.values, "jwt.secret": "another-secret-" * 4}
    with override_settings(CONFIG=type(settings.CONFIG)(values=other, sources=settings.CONFIG.sources)):
        with pytest.raises(TokenError) as raised:
            token_verify(token)
    assert raised.value.code == "token_invalid"
