"""The lineup in the admin: providers edited with their models, and breaker state read from the proxies' store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page

from apps.llm.models import Provider
from apps.llm.services import provider_save
from proxy.breakers import RedisBreakers
from proxy.config import BreakerSettings
from tests.support import admin_login

pytestmark = pytest.mark.django_db(transaction=True)


def breaker_open(name: str) -> None:
    """What a proxy does when the provider answers 429 with Retry-After: 60 (the store is Redis in full mode)."""
    async def trip() -> None:
        breakers = RedisBreakers(BreakerSettings(store="redis", redis_url=settings.CONFIG["redis.url"]))
        try:
            await breakers.failure(name, hold=60)
        finally:
            await breakers.aclose()

    with ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
        pool.submit(asyncio.run, trip()).result()


def provider_add(page: Page, base_url: str, *, name: str, api_key: str, model: str,
                 capabilities: str = '["streaming"]') -> None:
    """Fill and save the admin's add form: an ollama provider with one model."""
    page.goto(f"{base_url}/admin/llm/provider/add/")
    page.fill("#id_name", name)
    page.select_option("#id_kind", "ollama")
    page.fill("#id_api_key", api_key)
    page.fill("#id_models-0-model_id", model)
    page.fill("#id_models-0-capabilities", capabilities)
    page.click("input[name=_save]")


def test_breaker_state_is_shown_in_the_admin(live_server: Any, admin_user: Any, page: Page) -> None:
    provider_save(name="flaky", kind="ollama", models=[{"id": "flaky-model"}])
    provider_save(name="healthy", kind="ollama", models=[{"id": "healthy-model"}])
    breaker_open("flaky")
    admin_login(page, live_server.url)

    page.goto(f"{live_server.url}/admin/llm/provider/status/")

    assert page.inner_text("tr[data-provider=flaky] .breaker") == "open"
    assert page.inner_text("tr[data-provider=healthy] .breaker") == "closed"
    page.goto(f"{live_server.url}/admin/llm/provider/")
    assert "open" in page.inner_text("#result_list")


def test_a_provider_and_its_models_are_added_in_the_admin(live_server: Any, admin_user: Any, page: Page) -> None:
    admin_login(page, live_server.url)

    provider_add(page, live_server.url, name="from-admin", api_key='["env://FROM_ADMIN_KEY"]', model="admin-model",
                 capabilities='["tools", "streaming"]')

    page.wait_for_selector(".messagelist")

    provider = Provider.objects.get(name="from-admin")
    assert provider.api_key == ["env://FROM_ADMIN_KEY"]
    assert [m.model_id for m in provider.models.all()] == ["admin-model"]


def test_the_admin_refuses_a_literal_key(live_server: Any, admin_user: Any, page: Page) -> None:
    admin_login(page, live_server.url)

    provider_add(page, live_server.url, name="leaky", api_key='["sk-live-secret"]', model="m")

    assert "never the key itself" in page.inner_text(".errorlist")
    assert not Provider.objects.filter(name="leaky").exists()
