"""Who is calling: the seam where the proxy asks RBAC's cached API-key lookup to authenticate a request.

The proxy never reads the database itself. Whoever owns API keys installs an authenticator once at startup
(`authenticator_install`); it receives the presented key (or None) and returns a Caller or raises
ProxyError(UNAUTHORIZED / FORBIDDEN). It must answer from an in-process cache: it runs on every request.
Until one is installed, lite mode lets everyone in (a laptop's own proxy) and full mode lets no one in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from django.conf import settings

from proxy.errors import ErrorKind, ProxyError
from proxy.types import Caller

Authenticator = Callable[[str | None], Awaitable[Caller]]


async def authenticate_default(key: str | None) -> Caller:
    if settings.LEGION_MODE == "lite":
        return Caller()
    raise ProxyError(ErrorKind.UNAUTHORIZED, "the proxy has no API-key authenticator installed")


_authenticator: Authenticator = authenticate_default


def authenticator_install(authenticator: Authenticator | None) -> None:
    """Install the function every request is authenticated with; None restores the default."""
    global _authenticator
    _authenticator = authenticator or authenticate_default


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key as either SDK sends it: `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic)."""
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return headers.get("x-api-key") or None


async def caller_authenticate(headers: Mapping[str, str]) -> Caller:
    return await _authenticator(presented_key(headers))
