"""Helpers for tests that run Legion's own processes (free ports, a clean environment per mode) and pages."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py"), "legion"]

# What the suite's full-mode environment sets that must not leak into a lite-mode child.
_FULL_MODE_VARIABLES = (
    "DATABASE_URL", "BROKER_URL", "REDIS_URL", "SECRET_KEY", "LEGION_CRYPTO_KEYS", "LEGION_CRYPTO_ACTIVE_KEY",
    "LEGION_JWT_SECRET", "DJANGO_SETTINGS_MODULE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lite_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FULL_MODE_VARIABLES}
    return {**env, "LEGION_MODE": "lite", "LEGION_HOME": str(home), "LEGION_SETTINGS_FILE": "",
            "LEGION_ENV_FILE": "", "PYTHONUNBUFFERED": "1", **extra}


def full_env(database: str, **extra: str) -> dict[str, str]:
    """The suite's own full-mode environment for a child process on `database`, with overrides."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    url = urlsplit(env["DATABASE_URL"])
    return {**env, "DATABASE_URL": urlunsplit(url._replace(path=f"/{database}")), **extra}


# pytest-django's `admin_user` fixture: a superuser with this password.
ADMIN_PASSWORD = "password"


def admin_login(page: Page, base_url: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log in to the admin in a real browser (the `page` fixture)."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
