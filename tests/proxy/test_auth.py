"""Proxy authentication: RBAC keys verified once, then served from the in-process cache until RBAC changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from apps.rbac.models import ApiKey, Policy, Principal
from apps.rbac.services import api_key_create, api_key_revoke, principal_create
from proxy.auth import VERSION_POLL_SECONDS
from tests.proxy.conftest import Stack
from tests.support import wait_until

NewKey = Callable[..., str]

# The served proxy reads keys from its own thread and connection: every write here must really commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def new_key() -> NewKey:
    """`new_key(*policy_names, expires_at=None)`: a committed principal and key the served proxy can read."""
    made: list[Principal] = []

    def make(*policy_names: str, expires_at: Any = None) -> str:
        policies = list(Policy.objects.filter(name__in=policy_names))
        principal = principal_create(name=f"proxy-auth-{len(made)}", kind="service", policies=policies)
        made.append(principal)
        return api_key_create(principal=principal, name="auth test", expires_at=expires_at)[1]

    return make


def chat(stack: Stack, key: str | None, model: str = "llama3") -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{stack.url}/v1/chat/completions", headers=headers, timeout=10,
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def test_a_valid_key_is_served(stack: Stack, new_key: NewKey) -> None:
    assert chat(stack, new_key("operator")).status_code == 200


def test_no_key_is_refused_in_full_mode(stack: Stack) -> None:
    response = chat(stack, None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_foreign_key_is_refused_in_full_mode(stack: Stack) -> None:
    assert chat(stack, "sk-not-a-legion-key").status_code == 401


def test_a_revoked_key_is_refused_everywhere_within_the_poll_interval(
    stack: Stack, new_key: NewKey
) -> None:
    key = new_key("operator")
    assert chat(stack, key).status_code == 200
    api_key_revoke(api_key=ApiKey.objects.get(prefix=key.split("_")[1]))
    wait_until(lambda: chat(stack, key).status_code == 401, timeout=VERSION_POLL_SECONDS + 0.3,
               what="the proxy to see the revocation")

    response = chat(stack, key)

    assert response.status_code == 401
    assert "api_key_revoked" in response.json()["error"]["message"]


def test_a_cached_key_is_served_without_reading_the_database(
    stack: Stack, new_key: NewKey
) -> None:
    key = new_key("operator")
    time.sleep(VERSION_POLL_SECONDS + 0.3)  # let the proxy see the version the key's creation bumped
    assert chat(stack, key).status_code == 200
    # A raw UPDATE sends no signal, so nothing tells the proxy: only a database read would notice it.
    ApiKey.objects.filter(prefix=key.split("_")[1]).update(secret_hash="0" * 64)
    time.sleep(VERSION_POLL_SECONDS + 0.3)  # a version poll, which must not notice it
    assert chat(stack, key).status_code == 200


def test_an_expired_key_is_refused_even_while_cached(stack: Stack, new_key: NewKey) -> None:
    key = new_key("operator", expires_at=timezone.now() + timedelta(seconds=1.5))
    assert chat(stack, key).status_code == 200
    time.sleep(2)  # the key's expiry passes
    response = chat(stack, key)
    assert response.status_code == 401
    assert "api_key_expired" in response.json()["error"]["message"]


def test_a_principal_without_model_access_is_forbidden(stack: Stack, new_key: NewKey) -> None:
    response = chat(stack, new_key("observer"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_policy_change_reaches_the_cached_caller(stack: Stack, new_key: NewKey) -> None:
    key = new_key("observer")
    assert chat(stack, key).status_code == 403
    ApiKey.objects.get(prefix=key.split("_")[1]).principal.policies.add(Policy.objects.get(name="operator"))
    wait_until(lambda: chat(stack, key).status_code == 200, timeout=VERSION_POLL_SECONDS + 0.3,
               what="the proxy to see the new policy")
