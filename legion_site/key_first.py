"""ASGI middleware in front of Django: a request with a body that presents an API key has the key verified first.

Django reads the whole body before DRF authenticates anyone. A Legion key (`Authorization: Bearer lgn_…`) needs
nothing from the body, so a bad one is refused here (401 in the error envelope with its code, connection
closed) before a byte of the body is received. A good one passes on and DRF verifies it again as usual: one
indexed lookup, and only for requests that carry a body.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from apps.core.api.errors import error_body
from apps.core.bodies import declares_body
from apps.core.errors import ApplicationError
from apps.rbac.keys import looks_like_key
from apps.rbac.services import api_key_verify
from legion_site.body_limit import App, Receive, Scope, Send, respond


class KeyFirst:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = presented_key(scope) if scope["type"] == "http" and declares_body(scope["headers"]) else None
        if key is not None:
            try:
                await database_sync_to_async(api_key_verify)(raw_key=key)
            except ApplicationError as exc:
                await respond(send, exc.status, error_body(exc.code, exc.message), [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)


def presented_key(scope: Scope) -> str | None:
    """The Legion key of `Authorization: Bearer lgn_…`; other schemes and tokens are DRF's to judge."""
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and looks_like_key(token) else None
    return None
