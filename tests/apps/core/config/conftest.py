"""Fixtures for settings tests: an isolated environment and data directory, and a fake Vault."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.fakes.vault import FakeVault


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A lite-mode environment that reads no developer file and writes only under tmp_path."""
    return {"LEGION_HOME": str(tmp_path / "home"), "LEGION_SETTINGS_FILE": "", "LEGION_ENV_FILE": ""}


@pytest.fixture
def full_environ(environ: dict[str, str]) -> dict[str, str]:
    return {
        **environ,
        "LEGION_MODE": "full",
        "SECRET_KEY": "k" * 50,
        "DATABASE_URL": "postgres://db/legion",
        "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "LEGION_CRYPTO_KEYS": '{"k1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}',
        "LEGION_CRYPTO_ACTIVE_KEY": "k1",
        "LEGION_JWT_SECRET": "j" * 50,
    }


@pytest.fixture
def vault(httpserver: HTTPServer) -> FakeVault:
    return FakeVault(httpserver, token="root-token")
