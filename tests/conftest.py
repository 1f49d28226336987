"""Fixtures every test may use: API clients and the real services the settings point at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from rest_framework.test import APIClient

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


# Fixtures that commit to the test database for servers running in other threads or processes.
COMMITTED_DB_FIXTURES = frozenset({"test_database", "proxy_keys"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-django creates the test database only for tests marked `django_db`; a test that reaches it
    only through a committing fixture is marked here, or a run of such tests alone would use the
    development database instead."""
    for item in items:
        if COMMITTED_DB_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def test_database(django_db_setup: None, django_db_blocker: object) -> str:
    """Name of the migrated test database, for child processes that run Legion's own commands."""
    return str(settings.DATABASES["default"]["NAME"])


# Flags a headless Chromium needs on a closed network, as root, with no GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright; pages are opened against servers the tests start.

    Module-scoped on purpose: Playwright's sync API keeps an event loop running in this thread until
    it stops, which would break every asyncio test that runs after it in the session.
    """
    from playwright.sync_api import sync_playwright

    # The ORM calls tests make next to that loop are ordinary blocking calls, which Django would refuse.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=os.environ["LEGION_CHROMIUM"], args=CHROMIUM_ARGS)
            try:
                yield launched
            finally:
                launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
