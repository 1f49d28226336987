"""Hiding credentials in values shown to people: schema `writeOnly` marks, credential names, URL passwords."""

from __future__ import annotations

from apps.core.masking import MASK, credential_name, credentials_mask


def test_credential_names_cover_fields_and_headers_but_not_lookalikes() -> None:
    assert all(credential_name(name) for name in ("api_key", "x-api-key", "Authorization", "client_secret",
                                                  "access_token", "smtp_password", "Cookie", "Set-Cookie"))
    assert not any(credential_name(name) for name in ("max_tokens", "key", "author", "headers", "secrets_dir"))


def test_write_only_fields_are_hidden_wholly_wherever_the_schema_puts_them() -> None:
    schema = {
        "type": "object",
        "properties": {
            "headers": {"anyOf": [{"type": "object"}, {"type": "null"}], "writeOnly": True},
            "target": {"$ref": "#/$defs/Target"},
            "hops": {"type": "array", "items": {"$ref": "#/$defs/Target"}},
            "empty": {"type": "string", "writeOnly": True},
        },
        "$defs": {"Target": {"type": "object", "properties": {"pin": {"type": "string", "writeOnly": True}}}},
    }
    value = {"headers": {"Accept": "x"}, "target": {"pin": "1234", "host": "a"}, "hops": [{"pin": "9"}], "empty": ""}

    assert credentials_mask(value, schema=schema) == {
        "headers": MASK, "target": {"pin": MASK, "host": "a"}, "hops": [{"pin": MASK}], "empty": ""}


def test_credential_named_keys_and_url_passwords_are_hidden_without_any_schema() -> None:
    value = {"data": {"api_key": "k", "note": "n", "dsn": "postgres://app:pw@db:5432/x"}, "list": ["redis://:p@r/0"]}

    assert credentials_mask(value) == {
        "data": {"api_key": MASK, "note": "n", "dsn": f"postgres://app:{MASK}@db:5432/x"}, "list": [f"redis://:{MASK}@r/0"]}
