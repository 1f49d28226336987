"""Channels HTTP consumers of the proxy: thin translators between ASGI and the proxy's services.

Each parses with its dialect, calls one service, renders in the same dialect. Every failure, including an
unexpected one, leaves as an error in the client's own dialect, never as a bare 500 or a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from channels.generic.http import AsyncHttpConsumer

from apps.core.bodies import BodyCounter, BodyTooLarge, declares_body
from apps.rbac.decisions import policies_evaluate
from proxy.attempts import RequestContext
from proxy.auth import caller_authenticate
from proxy.callers import Caller
from proxy.config import ConfigError
from proxy.dialects import anthropic as anthropic_dialect
from proxy.dialects import openai as openai_dialect
from proxy.dialects.anthropic import AnthropicDialect
from proxy.dialects.base import Dialect, StreamRenderer
from proxy.dialects.openai import OpenAIDialect
from proxy.dialects.responses import ResponsesDialect
from proxy.errors import ErrorKind, ProxyError
from proxy.ledger import LoggingSink
from proxy.router.candidates import Pins
from proxy.runtime import Runtime, runtime_get
from proxy.service import chat_complete, chat_stream, embed, tokens_count
from proxy.streaming.keepalive import batches_with_keepalives
from proxy.types import ClientEvent, KeepAlive, RouteInfo, Started

log = logging.getLogger("legion.proxy")
OPENAI, ANTHROPIC = OpenAIDialect(), AnthropicDialect()
JSON = (b"content-type", b"application/json")
STATUS_RESOURCE = "proxy/providers"  # the REST API's status and catalog use the same resource


class ClientGone(Exception):
    """The client disconnected before its request body was complete: there is nobody left to answer."""


class ProxyConsumer(AsyncHttpConsumer):
    """Shared plumbing: header checks, authentication, bounded body reading, error rendering.

    Each request is one call, not Channels' message loop: that loop gathers the whole body before `handle` sees
    the request, and closes stale database connections and joins a channel layer around it, which the proxy does
    not use. Here the method, the key and Content-Length are checked from the headers before anything is
    received, then the body is read against a running count (`read_body`), so an unauthenticated, misdirected or
    oversized body is refused unread.
    """

    dialect: Dialect = OPENAI
    method = "POST"
    endpoint = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.started = False
        self.request_id = ""
        self.prepare()
        with contextlib.suppress(ClientGone):
            await self.handle()

    async def handle(self) -> None:  # not Channels' handle(body): reads it itself
        try:
            if self.scope["method"] != self.method:
                raise ProxyError(ErrorKind.INVALID_REQUEST, f"{self.scope['path']} accepts {self.method} only",
                                 status=405)
            runtime = runtime_get()
            caller = await caller_authenticate(self.headers)
            body = await self.read_body(runtime.limits.max_body_bytes) if self.method == "POST" else b""
            await self.serve(runtime, caller, body)
        except ProxyError as error:
            await self.fail(error)
        except ConfigError as error:
            await self.fail(ProxyError(ErrorKind.UNAVAILABLE, f"the proxy is misconfigured: {error}"))
        except ClientGone:
            raise
        except Exception:  # the last line of defence: log it, answer in the client's dialect
            log.exception("unexpected error serving %s", self.scope["path"])
            await self.fail(ProxyError(ErrorKind.INTERNAL, "internal proxy error; the proxy log has the details"))

    def prepare(self) -> None:
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]}
        self.dialect = self.dialect_for()
        # Until read_body has run, any body the request declares is unread (see id_headers).
        self.body_done = not declares_body(self.scope["headers"])

    async def read_body(self, limit: int) -> bytes:
        """The request body, refused (REQUEST_TOO_LARGE, naming the limit) by its Content-Length before a byte is
        received, or as soon as the running count passes `limit`; what is left of it is never read."""
        counter = BodyCounter(limit)
        chunks: list[bytes] = []
        try:
            counter.headers_check(self.scope["headers"])
            more = True
            while more:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone()
                chunks.append(counter.chunk(message))
                more = message.get("more_body", False)
        except BodyTooLarge as exc:
            raise ProxyError(ErrorKind.REQUEST_TOO_LARGE, f"{exc} (proxy.max_body_bytes)") from None
        self.body_done = True
        return b"".join(chunks)

    def dialect_for(self) -> Dialect:
        return self.dialect

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        raise NotImplementedError

    def context(self, runtime: Runtime, caller: Caller) -> RequestContext:
        ctx = RequestContext.start(runtime, caller=caller, pins=Pins.from_headers(self.headers),
                                   endpoint=self.endpoint, dialect=self.dialect.name)
        self.request_id = ctx.event.request_id
        return ctx

    async def send_json(self, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.started = True
        body = json.dumps(payload).encode()
        await self.send_response(status, body, headers=[
            JSON, (b"content-length", str(len(body)).encode()), *self.id_headers(), *(headers or [])])

    def id_headers(self) -> list[tuple[bytes, bytes]]:
        """The request id, and `connection: close` when the answer comes before the body was read (a refusal, or
        an endpoint that reads none): the server then drops the connection instead of draining what is left."""
        unread = [] if self.body_done else [(b"connection", b"close")]
        return [*unread, *([(b"x-request-id", self.request_id.encode())] if self.request_id else [])]

    async def fail(self, error: ProxyError) -> None:
        if self.started:
            log.warning("error after the response started: %r", error)
            return
        if error.detail != error.message:  # the client gets the redacted message; the log keeps what was left out
            log.warning("%s %s (request %s) answered %s: %s", self.scope["method"], self.scope["path"],
                        self.request_id or "-", error.kind.value, error.detail)
        headers = [(b"retry-after", str(max(1, round(error.retry_after))).encode())] if error.retry_after else []
        await self.send_json(error.status, self.dialect.error_body(error), headers)


def route_headers(route: RouteInfo | None) -> list[tuple[bytes, bytes]]:
    """What is known when the response starts; the final chunk or message_delta carries the rest."""
    if route is None:
        return []
    headers = [(b"x-legion-provider", route.provider.encode()), (b"x-legion-model", route.model.encode()),
               (b"x-legion-tier", route.tier.encode()), (b"x-legion-attempts", str(route.attempts).encode()),
               (b"x-legion-failover", b"true" if route.failovers else b"false")]
    if route.max_tokens is not None:
        headers.append((b"x-legion-max-tokens-clamped", str(route.max_tokens).encode()))
    if route.dropped:
        headers.append((b"x-legion-dropped-fields", ",".join(route.dropped).encode()))
    return headers


class ChatConsumer(ProxyConsumer):
    """`POST /v1/chat/completions` (OpenAI dialect), `POST /v1/messages` (Anthropic) and `POST /v1/responses`."""

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        request = self.dialect.chat_parse(body, runtime.limits, self.headers)
        ctx = self.context(runtime, caller)
        if not request.stream:
            response, route = await chat_complete(ctx, request)
            await self.send_json(200, self.dialect.chat_render(response, route), route_headers(route))
            return
        batches = batches_with_keepalives(chat_stream(ctx, request), runtime.settings.keepalive_seconds)
        await self.stream(batches, self.dialect.stream_renderer(request))

    async def stream(self, batches: AsyncGenerator[list[ClientEvent | KeepAlive], None],
                     renderer: StreamRenderer) -> None:
        """Pump events to the client until done, or until the client leaves (then the upstream is closed too)."""
        pump = asyncio.ensure_future(self.pump(batches, renderer))
        gone = asyncio.ensure_future(self.client_gone())
        try:
            await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (gone, pump):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if pump.done() and not pump.cancelled():
            pump.result()

    async def pump(self, batches: AsyncGenerator[list[ClientEvent | KeepAlive], None],
                   renderer: StreamRenderer) -> None:
        """One write per batch: events that arrived together leave together, which saves a system call each."""
        try:
            async with contextlib.aclosing(batches):
                async for batch in batches:
                    if not self.started:
                        await self.stream_start(batch[0].route if isinstance(batch[0], Started) else None)
                    await self.send_body(b"".join([renderer.render(event) for event in batch]), more_body=True)
        except ProxyError as error:
            if not self.started:
                await self.fail(error)
                return
            await self.send_body(renderer.error(error), more_body=True)
        await self.send_body(b"", more_body=False)

    async def stream_start(self, route: RouteInfo | None) -> None:
        self.started = True
        await self.send_headers(status=200, headers=[
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
            *self.id_headers(), *route_headers(route),
        ])

    async def client_gone(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass


class ChatCompletionsConsumer(ChatConsumer):
    dialect = OPENAI
    endpoint = "chat.completions"


class MessagesConsumer(ChatConsumer):
    dialect = ANTHROPIC
    endpoint = "messages"


class ResponsesConsumer(ChatConsumer):
    """`POST /v1/responses` (OpenAI Responses dialect); stateless: nothing is stored, whatever `store` says."""

    endpoint = "responses"

    def dialect_for(self) -> Dialect:
        return ResponsesDialect()  # holds the request it parses, to repeat it in the Response object


class CountTokensConsumer(ProxyConsumer):
    """`POST /v1/messages/count_tokens`: the provider's own count when it offers one, else the estimate."""

    dialect = ANTHROPIC
    endpoint = "messages.count_tokens"

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        request = ANTHROPIC.chat_parse(body, runtime.limits, self.headers, counting=True)
        tokens, counted = await tokens_count(self.context(runtime, caller), request)
        await self.send_json(200, {"input_tokens": tokens},
                             [(b"x-legion-token-source", b"provider" if counted else b"estimated")])


class EmbeddingsConsumer(ProxyConsumer):
    dialect = OPENAI
    endpoint = "embeddings"

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        request, encoding = openai_dialect.embed_parse(body, runtime.limits)
        result = await embed(self.context(runtime, caller), request)
        await self.send_json(200, openai_dialect.embed_render(result, encoding))


def dialect_sniffed(headers: Mapping[str, str]) -> Dialect:
    """The dialect of a caller on a path both SDKs use: Anthropic's SDK always sends `anthropic-version`, and an
    `x-api-key` without `authorization` is Anthropic's way to authenticate; anything else is answered as OpenAI."""
    if "anthropic-version" in headers or ("x-api-key" in headers and "authorization" not in headers):
        return ANTHROPIC
    return OPENAI


class ModelsConsumer(ProxyConsumer):
    """`GET /v1/models` in the shape of whichever SDK asks (see dialect_sniffed)."""

    method = "GET"

    def dialect_for(self) -> Dialect:
        return dialect_sniffed(self.headers)

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        names = runtime.lineup.names()
        render = anthropic_dialect.models_render if self.dialect is ANTHROPIC else openai_dialect.models_render
        await self.send_json(200, render(names))


class ModelConsumer(ModelsConsumer):
    """`GET /v1/models/{id}`: a model id, alias, `provider/model` or `auto`, in the asking SDK's shape."""

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        name = self.scope["url_route"]["kwargs"]["model"]
        if not runtime.lineup.knows(name):
            raise ProxyError(ErrorKind.NOT_FOUND, f"unknown model '{name}'; GET /v1/models lists them", param="model")
        render = anthropic_dialect.model_render if self.dialect is ANTHROPIC else openai_dialect.model_render
        await self.send_json(200, render(name))


class UnknownPathConsumer(ProxyConsumer):
    """Any other path under /v1, any method: a 404 in the caller's dialect (see dialect_sniffed), so a client
    with a wrong base URL or an endpoint Legion lacks reads an error it understands, never an HTML page.

    Answered before authentication: nothing is served here, and a wrong path is the more useful thing to learn.
    """

    def dialect_for(self) -> Dialect:
        return dialect_sniffed(self.headers)

    async def handle(self) -> None:  # not Channels' handle(body): reads it itself
        await self.fail(ProxyError(ErrorKind.NOT_FOUND, f"unknown path: {self.scope['method']} {self.scope['path']}"
                                   " (docs/proxy.md lists the proxy's endpoints)"))


class StatusConsumer(ProxyConsumer):
    """`GET /v1/legion/status`: every provider instance with its tier, models and breaker state.

    Like `/api/v1/proxy/status/`, it needs a caller whose principal may `read` `proxy/providers` (the built-in
    `anonymous` policy does not); where providers live (`base_url`) is shown only to those who may `manage` them.
    """

    method = "GET"

    async def serve(self, runtime: Runtime, caller: Caller, body: bytes) -> None:
        if not policies_evaluate(caller.policies, "read", STATUS_RESOURCE).allowed:
            raise ProxyError(ErrorKind.FORBIDDEN, f"the proxy's status needs 'read' on {STATUS_RESOURCE}")
        addresses = policies_evaluate(caller.policies, "manage", STATUS_RESOURCE).allowed
        specs = runtime.settings.providers
        states = await runtime.breakers.states(spec.name for spec in specs)
        sink = runtime.sink
        await self.send_json(200, {
            "providers": [{"name": s.name, "kind": s.kind, "tier": s.tier,
                           **({"base_url": s.base_url} if addresses else {}),
                           "breaker": states.get(s.name, "unknown"), "models": [m.id for m in s.models]}
                          for s in specs],
            "ledger": dict(sink.counts) | {"dropped": sink.dropped} if isinstance(sink, LoggingSink) else {},
        })
