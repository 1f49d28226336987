"""Helpers for tests that run Legion's own processes (free ports, a clean environment per mode), pages and waits."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from kombu.message import Message
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py"), "legion"]

# What the suite's full-mode environment sets that must not leak into a lite-mode child.
_FULL_MODE_VARIABLES = (
    "DATABASE_URL", "BROKER_URL", "REDIS_URL", "SECRET_KEY", "LEGION_CRYPTO_KEYS", "LEGION_CRYPTO_ACTIVE_KEY",
    "LEGION_JWT_SECRET", "DJANGO_SETTINGS_MODULE",
)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed): free for a server, dead for a client."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def queue_taken(queue: str, expected: int, timeout: float) -> list[Message]:
    """Up to `expected` messages from a broker queue, in order, consumed and acknowledged; fewer if `timeout` passes
    first (each read blocks on the broker for at most half a second, so no sleep stands in for a message)."""
    from django.conf import settings
    from kombu import Connection

    taken: list[Message] = []
    with Connection(settings.CELERY_BROKER_URL) as connection:
        simple = connection.SimpleQueue(queue)
        deadline = time.monotonic() + timeout
        while len(taken) < expected and time.monotonic() < deadline:
            try:
                message = simple.get(timeout=0.5)
            except simple.Empty:
                continue
            message.ack()
            taken.append(message)
        simple.close()
    return taken


def received(queue: str, expected: int, timeout: float = 5.0) -> list[list[Any]]:
    """The args of the task messages now in `queue`, in order, consumed and acknowledged."""
    return [message.payload[0] for message in queue_taken(queue, expected, timeout)]


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


T = TypeVar("T")


def wait_until(predicate: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of `predicate()`, asked every `interval` s; fails naming `what` after `timeout` s.

    The last look starts as `timeout` passes, so a wait is never stricter than the fixed sleep it replaces
    (sleeping `timeout`, then looking once), nor more lenient.
    """
    deadline = time.monotonic() + timeout
    while True:
        late = time.monotonic() >= deadline
        if value := predicate():
            return value
        if late:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 60) -> httpx.Response:
    """The first answer of a starting server at `url`; fails if the process exits or `timeout` passes first."""

    def answer() -> httpx.Response | None:
        assert process.poll() is None, f"process exited with {process.returncode}"
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            return None

    return wait_until(answer, timeout=timeout, what=f"{url} answering", interval=0.2)


@dataclass(frozen=True)
class Upload:
    """What a server did with a body streamed at it: its status line's code, and how much it let in first."""

    status: int
    sent: int
    response: bytes


def upload_stream(port: int, head: str, *, total: int, chunked: bool, deadline: float = 60.0) -> Upload:
    """Send `head` (a request line and headers, without the blank line), then up to `total` body bytes made as
    they go (never held whole), until the server answers or closes; then read its answer to the end.

    A server that neither reads nor answers makes a send time out: the upload fails instead of hanging.
    """
    block = b"x" * (1 << 20)
    piece = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=deadline) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n")
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(piece)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on us: its answer, if any, is already in our receive buffer
        response = b""
        with contextlib.suppress(ConnectionResetError):
            while data := sock.recv(65536):  # a refusal closes the connection once said
                response += data
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return Upload(status, sent, response)
