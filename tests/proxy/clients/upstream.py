"""A scripted upstream for coding agents: a fake provider that answers by content and records requests whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.proxy.fakes.script import FakeProvider, Receive, Reply, Send


@dataclass
class Exchange:
    """One request as it went over the wire."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class Scripted:
    """An ASGI wrapper over a fake provider: records each request, and queues the fake's reply chosen from it."""

    def __init__(self, fake: FakeProvider, reply: Callable[[dict[str, Any]], Reply]) -> None:
        self.fake = fake
        self.reply = reply
        self.exchanges: list[Exchange] = []

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [exchange.body for exchange in self.exchanges if exchange.path == path]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        body = json.loads(raw) if raw else None
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.exchanges.append(Exchange(scope["method"], scope["path"], scope["query_string"].decode(), headers,
                                       body))
        # count_tokens carries a model too but takes no scripted reply.
        if isinstance(body, dict) and "model" in body and not scope["path"].endswith("/count_tokens"):
            self.fake.queue(body["model"], self.reply(body))
        replayed = False

        async def replay() -> dict[str, Any]:
            # The body once, as read; after that, whatever the connection says (a disconnect, for stalls).
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.fake(scope, replay, send)
