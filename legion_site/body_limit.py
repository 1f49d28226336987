"""ASGI middleware in front of Django: request bodies over `web.max_body_bytes` are refused as they arrive.

Django's ASGI handler reads the whole body (spooling it to a temporary file) before any view, middleware or
authentication runs. This refuses it first: by Content-Length before a byte is read, else by a running count;
the 413 says the limit and closes the connection, so the rest of the body is never read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from apps.core.api.errors import error_body
from apps.core.bodies import BodyCounter, BodyTooLarge

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: App, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = BodyCounter(self.limit)
        try:
            counter.headers_check(scope["headers"])
        except BodyTooLarge as exc:
            await refuse(send, exc)
            return
        refused: list[BodyTooLarge] = []

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                try:
                    counter.chunk(message)
                except BodyTooLarge as exc:
                    refused.append(exc)
                    # Django drops a request whose client left while it read the body (RequestAborted), sending
                    # nothing; the refusal is then this middleware's to send.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)
        if refused:
            await refuse(send, refused[0])


async def refuse(send: Send, exc: BodyTooLarge) -> None:
    await respond(send, 413, error_body("request_too_large", f"{exc} (web.max_body_bytes)"))


async def respond(send: Send, status: int, payload: dict[str, Any],
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """An error envelope sent before the body was read: the connection closes, so the rest is never read."""
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *(headers or []),
    ]})
    await send({"type": "http.response.body", "body": body})
