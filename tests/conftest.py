"""Fixtures every test may use: API clients and the real services the settings point at."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def test_database(django_db_setup: None, django_db_blocker: object) -> str:
    """Name of the migrated test database, for child processes that run Legion's own commands."""
    return str(settings.DATABASES["default"]["NAME"])
