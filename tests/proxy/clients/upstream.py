"""A scripted upstream for coding agents: a fake provider that answers by content and records requests whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.proxy.fakes.script import FakeProvider, Receive, Reply, Send, request_read


@dataclass
class Exchange:
    """One request as it went over the wire."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class Scripted:
    """An ASGI app over a fake provider's wire format: records each request whole (method and query too), and
    queues the fake's reply chosen from it."""

    def __init__(self, fake: FakeProvider, reply: Callable[[dict[str, Any]], Reply]) -> None:
        self.fake = fake
        self.reply = reply
        self.exchanges: list[Exchange] = []

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [exchange.body for exchange in self.exchanges if exchange.path == path]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers, body, _ = await request_read(scope, receive)
        self.exchanges.append(Exchange(scope["method"], scope["path"], scope["query_string"].decode(), headers,
                                       body))
        # count_tokens carries a model too but takes no scripted reply.
        if isinstance(body, dict) and "model" in body and not scope["path"].endswith("/count_tokens"):
            self.fake.queue(body["model"], self.reply(body))
        await self.fake.handle(scope["method"], scope["path"], headers, body, receive, send)
