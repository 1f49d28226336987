"""API key material: format, parsing and hashing."""

from __future__ import annotations

import re

from apps.rbac.keys import key_generate, key_parse, looks_like_key, secret_hash, secret_matches


def test_generated_keys_have_the_documented_format() -> None:
    material = key_generate()

    assert re.fullmatch(r"lgn_[a-z0-9]{8}_[A-Za-z0-9_-]{32,}", material.raw)
    assert key_parse(material.raw) == material


def test_keys_are_unique() -> None:
    assert len({key_generate().raw for _ in range(50)}) == 50


def test_malformed_keys_do_not_parse() -> None:
    for raw in ["", "lgn_", "lgn_short_secret", "xyz_abcdefgh_" + "a" * 40, "lgn_ABCDEFGH_" + "a" * 40,
                "lgn_abcdefgh_" + "a" * 31, "lgn_abcdefgh_" + "a" * 40 + "!"]:
        assert key_parse(raw) is None, raw


def test_the_hash_is_sha256_and_checks_in_constant_time() -> None:
    material = key_generate()

    assert len(material.secret_hash) == 64 and material.secret not in material.secret_hash
    assert secret_matches(material.secret, secret_hash(material.secret))
    assert not secret_matches(material.secret + "x", secret_hash(material.secret))
    assert not secret_matches(material.secret, None)


def test_only_lgn_tokens_claim_to_be_keys() -> None:
    assert looks_like_key("lgn_x") and not looks_like_key("eyJhbGciOi")
