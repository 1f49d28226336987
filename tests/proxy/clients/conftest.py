"""Fixtures for the coding-agent tests: the pinned CLIs, and a scripted upstream put behind the served proxy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from legion_site.devservices import CLIENT_BINS, clients_ensure
from proxy.runtime import runtime_configure
from tests.proxy.clients.upstream import Scripted
from tests.proxy.conftest import Stack, stack_settings
from tests.proxy.fakes.server import serving

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def client_bins() -> dict[str, str]:
    """The pinned CLIs: as `./legion test` installed them, else installed now (never skipped)."""
    if all(os.environ.get(name) for name in CLIENT_BINS):
        return {name: os.environ[name] for name in CLIENT_BINS}
    return clients_ensure(ROOT / "requirements" / "clients", ROOT / "var" / "clients")


@contextmanager
def behind_proxy(stack: Stack, provider: str, upstream: Scripted, **overrides: Any) -> Iterator[Scripted]:
    """Serve `upstream` in place of the stack's `provider` fake ("anthropic", "openai", ...) for the block."""
    with serving(upstream) as server:
        runtime_configure(stack_settings({**stack.urls, provider: server.url}, **overrides))
        try:
            yield upstream
        finally:
            stack.configure()
