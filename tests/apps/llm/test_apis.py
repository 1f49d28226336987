"""Providers, models and aliases declared through the REST API route at once, without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from apps.llm.models import Provider
from apps.rbac.models import Policy
from apps.rbac.services import api_key_create, principal_create
from tests.apps.llm.conftest import CHANGE_SECONDS
from tests.proxy.conftest import Stack
from tests.support import wait_until

# The served proxy reads the lineup from its own thread and connection: every write here must commit.
pytestmark = pytest.mark.django_db(transaction=True)


def provider_body(stack: Stack, name: str = "dyn-openai", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "openai", "base_url": stack.urls["openai"] + "/v1", "tier": "cloud",
            "api_key": ["env://LEGION_TEST_DYN_KEY"], "concurrency": 8,
            "models": [{"id": "dyn-model", "capabilities": ["tools", "streaming"], "context_window": 16000,
                        "max_output": 1000, "price_in": 1.5, "price_out": 2.5}]} | extra


@pytest.fixture
def proxy(stack: Stack, proxy_key: str) -> Proxy:
    return Proxy(stack, proxy_key)


@dataclass
class Proxy:
    """The served proxy as a caller with a committed key sees it."""

    stack: Stack
    key: str

    def chat(self, model: str) -> httpx.Response:
        return httpx.post(f"{self.stack.url}/v1/chat/completions", headers={"authorization": f"Bearer {self.key}"},
                          json={"model": model, "messages": [{"role": "user", "content": "hi"}]}, timeout=10)

    def served_by(self, model: str, provider: str) -> bool:
        response = self.chat(model)
        return response.status_code == 200 and response.headers.get("x-legion-provider") == provider


@pytest.fixture
def dyn_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGION_TEST_DYN_KEY", "sk-openai")  # what the fake OpenAI accepts


def test_a_provider_created_through_the_api_serves_within_seconds(stack: Stack, proxy: Proxy, admin_api: APIClient,
                                                                    dyn_key: None) -> None:
    assert proxy.chat("dyn-model").json()["error"]["code"] == "unknown_model"

    created = admin_api.post("/api/v1/proxy/providers/", provider_body(stack), format="json")

    assert created.status_code == 201, created.content
    wait_until(lambda: proxy.served_by("dyn-model", "dyn-openai"), timeout=CHANGE_SECONDS, what="the new provider")
    assert stack.openai.requests[-1].headers["authorization"] == "Bearer sk-openai"


def test_credentials_are_stored_as_the_reference_never_the_secret(stack: Stack, admin_api: APIClient,
                                                                   dyn_key: None) -> None:
    admin_api.post("/api/v1/proxy/providers/", provider_body(stack), format="json")

    assert Provider.objects.get(name="dyn-openai").api_key == ["env://LEGION_TEST_DYN_KEY"]
    assert admin_api.get("/api/v1/proxy/providers/dyn-openai/").json()["api_key"] == ["env://LEGION_TEST_DYN_KEY"]


def test_changing_a_providers_url_reroutes_without_a_restart(stack: Stack, proxy: Proxy, admin_api: APIClient,
                                                              dyn_key: None) -> None:
    admin_api.post("/api/v1/proxy/providers/", provider_body(stack), format="json")
    wait_until(lambda: proxy.served_by("dyn-model", "dyn-openai"), timeout=CHANGE_SECONDS, what="the new provider")

    changed = admin_api.patch("/api/v1/proxy/providers/dyn-openai/", {"base_url": stack.urls["vllm"] + "/v1"},
                              format="json")

    assert changed.status_code == 200, changed.content
    wait_until(lambda: proxy.served_by("dyn-model", "dyn-openai") and bool(stack.vllm.requests),
               timeout=CHANGE_SECONDS, what="the provider's new URL")


def test_a_deleted_provider_stops_serving(stack: Stack, proxy: Proxy, admin_api: APIClient, dyn_key: None) -> None:
    admin_api.post("/api/v1/proxy/providers/", provider_body(stack), format="json")
    wait_until(lambda: proxy.served_by("dyn-model", "dyn-openai"), timeout=CHANGE_SECONDS, what="the new provider")

    assert admin_api.delete("/api/v1/proxy/providers/dyn-openai/").status_code == 204

    wait_until(lambda: proxy.chat("dyn-model").status_code == 400, timeout=CHANGE_SECONDS,
               what="the deleted provider's model refused")


def test_an_alias_declared_through_the_api_routes(stack: Stack, proxy: Proxy, admin_api: APIClient,
                                                  dyn_key: None) -> None:
    admin_api.post("/api/v1/proxy/providers/", provider_body(stack), format="json")

    members = ["dyn-model", "dyn-openai/dyn-model"]
    created = admin_api.post("/api/v1/proxy/aliases/", {"name": "dyn-alias", "members": members}, format="json")

    assert created.status_code == 201, created.content
    wait_until(lambda: proxy.served_by("dyn-alias", "dyn-openai"), timeout=CHANGE_SECONDS, what="the new alias")


def test_an_alias_naming_no_model_is_refused(admin_api: APIClient) -> None:
    response = admin_api.post("/api/v1/proxy/aliases/", {"name": "nothing", "members": ["no-such-model"]},
                              format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_model"


def test_a_name_the_settings_file_declares_is_refused(stack: Stack, admin_api: APIClient) -> None:
    response = admin_api.post("/api/v1/proxy/providers/", provider_body(stack, name="legion-local"), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "declared_in_settings"


@pytest.mark.parametrize(("change", "field"), [
    ({"models": [{"id": "m", "capabilities": ["telepathy"]}]}, "models"),
    ({"models": []}, "models"),
    ({"api_key": ["sk-the-real-key"]}, "api_key"),
    ({"name": "has space"}, None),
    ({"kind": "openai_compatible", "base_url": ""}, None),
])
def test_entries_the_settings_file_would_refuse_are_refused(stack: Stack, admin_api: APIClient,
                                                            change: dict[str, Any], field: str | None) -> None:
    response = admin_api.post("/api/v1/proxy/providers/", provider_body(stack) | change, format="json")

    assert response.status_code == 400, response.content
    if field:
        assert response.json()["error"]["field"].split(".")[0] == field
    assert not Provider.objects.exists()


def test_writes_need_rbac_permission_on_the_provider(stack: Stack, api_client: APIClient) -> None:
    observer = principal_create(name="catalog-observer", kind="service",
                                policies=[Policy.objects.get(name="observer")])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(principal=observer, name='o')[1]}")

    response = api_client.post("/api/v1/proxy/providers/", provider_body(stack), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api_client.get("/api/v1/proxy/providers/").status_code in (200, 403)
