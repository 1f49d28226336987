"""What a fake provider does next: scripted behaviours per model, plus a record of every request it saw."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Reply:
    """A successful answer; streamed word by word, tool-call arguments in three fragments."""

    text: str = "Hello from the fake provider."
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    thinking: str = ""
    stop: str = "end"  # end | length
    input_tokens: int = 11  # uncached prompt tokens
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    delay: float = 0.0  # between stream chunks
    reports_usage: bool = True  # False: an OpenAI-compatible server that leaves usage out of a whole answer


@dataclass
class Fail:
    """An error response: rate_limit, overloaded, server, context_length, content_policy, auth, invalid, not_found."""

    kind: str
    retry_after: float | None = None
    message: str | None = None  # instead of the provider's usual wording


@dataclass
class Die:
    """Stream `after` chunks of `reply`, then drop the connection without finishing the body.

    For a whole (not streamed) answer: the response's status and headers, then the drop.
    """

    after: int
    reply: Reply = field(default_factory=Reply)


@dataclass
class Stall:
    """Stream `after` chunks of `reply`, then go silent for `seconds` (until the client leaves) before going on."""

    seconds: float
    after: int = 0
    reply: Reply = field(default_factory=Reply)


@dataclass
class StreamFail:
    """Stream `after` chunks, then an in-band error event in the provider's own framing."""

    after: int
    kind: str = "overloaded"
    reply: Reply = field(default_factory=Reply)


Behaviour = Reply | Fail | Die | Stall | StreamFail


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""  # the body's exact bytes, for tests of what a provider's prompt cache sees

class Dropped(Exception):
    """Raised inside the fake to make the server abort the connection mid-body."""


class FakeProvider:
    """An ASGI app; subclasses translate behaviours into one provider's wire format."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.scripts: dict[str, deque[Behaviour]] = defaultdict(deque)
        self.default: Behaviour = Reply()

    def queue(self, model: str, *behaviours: Behaviour) -> None:
        self.scripts[model].extend(behaviours)

    def next(self, model: str) -> Behaviour:
        script = self.scripts.get(model)
        return script.popleft() if script else self.default

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers, body, raw = await request_read(scope, receive)
        self.requests.append(Recorded(scope["path"], headers, body, raw))
        await self.handle(scope["method"], scope["path"], headers, body, receive, send)

    async def handle(self, method: str, path: str, headers: dict[str, str], body: Any, receive: Receive,
                     send: Send) -> None:
        raise NotImplementedError


async def request_read(scope: dict[str, Any], receive: Receive) -> tuple[dict[str, str], Any, bytes]:
    """A request's headers (names lower-cased), its JSON body (None when empty) and its bytes, read whole."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    return {k.decode().lower(): v.decode() for k, v in scope["headers"]}, json.loads(raw) if raw else None, raw


async def respond(send: Send, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": data})


async def drop(send: Send) -> None:
    """Start a 200 response and drop the connection before its body: a connection reset mid-answer."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    raise Dropped("scripted drop")


async def stream_start(send: Send, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})


async def wait_gone(receive: Receive, seconds: float) -> None:
    """Sleep up to `seconds`, returning early when the client disconnects (so a stalled fake frees itself)."""
    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(gone(), seconds)
    except TimeoutError:
        pass


async def play(frames: list[bytes], behaviour: Behaviour, send: Send, receive: Receive,
               error_frame: Callable[[str], bytes]) -> None:
    """Send stream frames as the behaviour says: all of them, or some then a drop, a stall or an error event."""
    reply = behaviour if isinstance(behaviour, Reply) else getattr(behaviour, "reply", Reply())
    cut = len(frames) if isinstance(behaviour, Reply) else min(getattr(behaviour, "after", 0), len(frames))
    for frame in frames[:cut]:
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        if reply.delay:
            await asyncio.sleep(reply.delay)
    if isinstance(behaviour, Die):
        raise Dropped("scripted drop")
    if isinstance(behaviour, StreamFail):
        await send({"type": "http.response.body", "body": error_frame(behaviour.kind)})
        return
    if isinstance(behaviour, Stall):
        await wait_gone(receive, behaviour.seconds)
        for frame in frames[cut:]:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def words(text: str) -> list[str]:
    """The text in word-sized pieces that join back to exactly the text."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char == " ":
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def thirds(text: str) -> list[str]:
    step = max(1, len(text) // 3)
    return [text[i:i + step] for i in range(0, len(text), step)]
