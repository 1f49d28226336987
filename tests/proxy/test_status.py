"""`GET /v1/legion/status` needs a key that may read `proxy/providers`; provider addresses need `manage` on it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apps.rbac.keys import KeyMaterial
from apps.rbac.models import ApiKey, Policy, Principal
from tests.proxy.conftest import TEST_KEY, Stack

OBSERVER_MATERIAL = KeyMaterial(prefix="prxobsrv", secret="proxy-suite-observer-secret-0123456789abcdef")
NOTHING_MATERIAL = KeyMaterial(prefix="prxnothg", secret="proxy-suite-nopolicy-secret-0123456789abcdef")


@pytest.fixture(scope="module", autouse=True)
def status_keys(django_db_setup: None, django_db_blocker: Any) -> None:
    """Keys of an observer and of a principal with no policy, committed: the served proxy reads them from a thread."""
    with django_db_blocker.unblock():
        for name, material, policies in (("proxy-status-observer", OBSERVER_MATERIAL, ["observer"]),
                                         ("proxy-status-nothing", NOTHING_MATERIAL, [])):
            principal, _ = Principal.objects.get_or_create(name=name, defaults={"kind": "service"})
            principal.policies.set(Policy.objects.filter(name__in=policies))
            ApiKey.objects.get_or_create(prefix=material.prefix, defaults={
                "principal": principal, "name": "proxy status test", "secret_hash": material.secret_hash})


def status(stack: Stack, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{stack.url}/v1/legion/status", headers=headers, timeout=10)


def test_status_refuses_callers_without_a_key_or_without_read(stack: Stack) -> None:
    anonymous, unprivileged = status(stack, None), status(stack, NOTHING_MATERIAL.raw)

    assert anonymous.status_code == 401 and "base_url" not in anonymous.text
    assert unprivileged.status_code == 403 and "proxy/providers" in unprivileged.json()["error"]["message"]


def test_readers_see_providers_without_their_addresses(stack: Stack) -> None:
    response = status(stack, OBSERVER_MATERIAL.raw)

    assert response.status_code == 200
    providers = {p["name"]: p for p in response.json()["providers"]}
    assert providers["anthropic"]["breaker"] == "closed" and "base_url" not in providers["anthropic"]
    assert stack.urls["anthropic"] not in response.text


def test_managers_see_provider_addresses(stack: Stack) -> None:
    providers = {p["name"]: p for p in status(stack, TEST_KEY).json()["providers"]}

    assert providers["anthropic"]["base_url"] == stack.urls["anthropic"]
