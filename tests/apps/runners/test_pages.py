"""The capability catalog as a browser page: login required, RBAC's `read` on `extensions`, same counts as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page

from apps.runners.catalog import catalog_build
from tests.support import admin_login


@pytest.mark.django_db(transaction=True)
def test_the_catalog_page_lists_every_extension_and_function_in_a_real_browser(
    live_server: Any, admin_user: Any, page: Page, tmp_path: Path,
) -> None:
    catalog = catalog_build()
    admin_login(page, live_server.url)

    page.goto(f"{live_server.url}/admin/")
    assert "0 messages waiting" in page.inner_text("#spool-panel")  # the spool depth sits on the admin index too
    page.screenshot(path=str(tmp_path / "admin-index.png"), full_page=True)
    page.click("#catalog-link a")
    page.wait_for_selector("#catalog-counts")

    counts = catalog["counts"]
    assert page.url == f"{live_server.url}/catalog/"
    assert " ".join(page.inner_text("#catalog-counts").split()).startswith(
        f"{counts['extensions']} extensions, {counts['runners']} runners, {counts['functions']} functions.")
    sections = page.locator("section.catalog-extension")
    assert [sections.nth(i).get_attribute("data-extension") for i in range(sections.count())] == [
        extension["name"] for extension in catalog["extensions"]]
    assert {"core", "http", "smtp", "postgres", "redis"} <= {e["name"] for e in catalog["extensions"]}
    assert page.locator("tr.catalog-function").count() == counts["functions"]
    row = page.locator('tr[data-function="http.request.get"]')
    assert "url" in row.inner_text() and "standard" in row.inner_text()
    assert "network_outbound" in page.locator("#extension-http").inner_text()

    page.fill("#catalog-filter", "sleep")  # a trigger word of core.basic.wait alone
    visible = page.locator("tr.catalog-function:visible")
    assert [visible.nth(i).get_attribute("data-function") for i in range(visible.count())] == ["core.basic.wait"]
    assert page.locator("section.catalog-extension:visible").count() == 1
    page.fill("#catalog-filter", "")
    assert page.locator("tr.catalog-function:visible").count() == counts["functions"]
    page.screenshot(path=str(tmp_path / "catalog.png"))


def test_an_anonymous_visitor_is_sent_to_the_login(client: Client, db: None) -> None:
    response = client.get("/catalog/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=/catalog/")


def test_a_login_without_a_policy_to_read_extensions_is_refused(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get("/catalog/").status_code == 403


def test_the_page_shows_an_extensions_settings_with_secrets_masked(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    body = client.get("/catalog/").content.decode()
    assert "extensions.postgres.connections" in body and "extensions.http.max_response_bytes" in body
    assert body.count('<span class="catalog-muted">secret</span>') >= 3  # postgres and redis connections, smtp password
