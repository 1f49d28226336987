"""Spool depth on the admin index: what waits in this process's spool directory for the broker."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.core.spool.publisher import publisher


@pytest.fixture
def admin_client_logged(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def test_an_empty_spool_shows_zero(admin_client_logged: Client) -> None:
    body = admin_client_logged.get("/admin/").content.decode()
    assert 'id="spool-panel"' in body and 'class="spool-depth spool-empty"' in body
    assert '<span class="spool-messages">0</span> messages waiting' in body


def test_spooled_messages_are_counted_on_the_index(admin_client_logged: Client) -> None:
    spool = publisher().spool
    for run in ("a", "b"):
        spool.append({"task": "legion.chains.run_execute", "args": [run], "queue": "q"})

    body = admin_client_logged.get("/admin/").content.decode()

    assert 'class="spool-depth spool-waiting"' in body
    assert '<span class="spool-messages">2</span> messages</strong>' in body
    assert "in 1 file " in body and str(spool.directory) in body


def test_staff_without_a_policy_to_read_the_spool_do_not_see_it(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user("clerk", password="x", is_staff=True))
    response = client.get("/admin/")
    assert response.status_code == 200 and 'id="spool-panel"' not in response.content.decode()
