"""Failed admin logins: five per username or per client address within five minutes lock them out, with a message."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

PASSWORD = "the right pass phrase 7"


def login(client: Client, username: str, password: str, address: str) -> str:
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                           REMOTE_ADDR=address)
    return "locked" if "Too many failed logins" in response.content.decode() else (
        "in" if response.status_code == 302 else "refused")


@pytest.fixture
def username(db: None) -> str:
    """A fresh superuser per test: counters live in the shared cache and outlast a test run."""
    name = f"admin-{uuid.uuid4().hex[:8]}"
    get_user_model().objects.create_superuser(username=name, email="", password=PASSWORD)
    return name


def address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_five_failures_lock_the_username_out_even_from_other_addresses(client: Client, username: str) -> None:
    outcomes = [login(client, username, "wrong", address()) for _ in range(5)]

    assert outcomes == ["refused"] * 5
    assert login(client, username, PASSWORD, address()) == "locked"


def test_five_failures_lock_the_address_out_for_every_username(client: Client, username: str) -> None:
    here = address()
    for attempt in range(5):
        assert login(client, f"nobody-{attempt}-{uuid.uuid4().hex[:6]}", "wrong", here) == "refused"

    assert login(client, username, PASSWORD, here) == "locked"
    assert login(client, username, PASSWORD, address()) == "in"


def test_a_success_clears_the_usernames_failures(client: Client, username: str) -> None:
    for _ in range(4):
        login(client, username, "wrong", address())
    assert login(client, username, PASSWORD, address()) == "in"
    client.logout()

    assert [login(client, username, "wrong", address()) for _ in range(4)] == ["refused"] * 4
    assert login(client, username, PASSWORD, address()) == "in"
