"""Anonymous access is the built-in `anonymous` principal, governed by its policies; a credential that is not a
valid key is refused, never served anonymously (issue 9)."""

from __future__ import annotations

import time

import httpx
import pytest
from django.conf import settings

from apps.rbac.models import Policy, Principal
from apps.rbac.services import policy_attach, policy_detach, principal_update
from proxy.auth import VERSION_POLL_SECONDS
from tests.proxy.conftest import Stack
from tests.support import wait_until

# The served proxy reads RBAC from its own thread and connection: every write here must really commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anonymous_allowed(monkeypatch: pytest.MonkeyPatch, stack: Stack) -> Stack:
    monkeypatch.setitem(settings.CONFIG.values, "proxy.allow_anonymous", True)
    time.sleep(VERSION_POLL_SECONDS + 0.3)  # forget callers cached before this test's database was set up
    return stack


def chat(stack: Stack, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.url}/v1/chat/completions", headers=headers, timeout=10,
                      json={"model": "llama3", "messages": [{"role": "user", "content": "hi"}]})


def status_page(stack: Stack) -> httpx.Response:
    return httpx.get(f"{stack.url}/v1/legion/status", timeout=10)


def anonymous() -> Principal:
    return Principal.objects.get(name="anonymous")


def test_without_a_credential_the_anonymous_principal_is_served(anonymous_allowed: Stack) -> None:
    assert chat(anonymous_allowed, {}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"authorization": "Bearer sk-placeholder"},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": ""},
    {"x-api-key": "sk-ant-placeholder"},
    {"authorization": "Bearer lgn_abcd1234_" + "x" * 43},
], ids=["foreign bearer", "basic", "empty authorization", "foreign x-api-key", "unknown legion key"])
def test_an_unusable_credential_is_refused_not_served_anonymously(anonymous_allowed: Stack,
                                                                  headers: dict[str, str]) -> None:
    response = chat(anonymous_allowed, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_the_anonymous_principals_policies_govern_model_access(anonymous_allowed: Stack) -> None:
    policy_detach(principal=anonymous(), policy=Policy.objects.get(name="anonymous"))
    policy_attach(principal=anonymous(), policy=Policy.objects.get(name="observer"))
    wait_until(lambda: chat(anonymous_allowed, {}).status_code == 403, timeout=VERSION_POLL_SECONDS + 0.3,
               what="the proxy to see the anonymous principal's policies change")

    response = chat(anonymous_allowed, {})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_deactivating_the_anonymous_principal_turns_anonymous_access_off(anonymous_allowed: Stack) -> None:
    principal_update(principal=anonymous(), is_active=False)

    wait_until(lambda: chat(anonymous_allowed, {}).status_code == 403, timeout=VERSION_POLL_SECONDS + 0.3,
               what="anonymous access turned off")


def test_the_status_page_asks_the_anonymous_principals_policies_too(anonymous_allowed: Stack) -> None:
    refused = status_page(anonymous_allowed)
    policy_attach(principal=anonymous(), policy=Policy.objects.get(name="observer"))

    wait_until(lambda: status_page(anonymous_allowed).status_code == 200, timeout=VERSION_POLL_SECONDS + 0.3,
               what="the proxy to see the anonymous principal's new policy")
    allowed = status_page(anonymous_allowed)

    assert refused.status_code == 403 and allowed.status_code == 200
    assert "base_url" not in allowed.text  # reading is not managing
