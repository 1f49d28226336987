"""The proxy's services: chat (whole or streamed, with failover), embeddings and token counts.

Consumers call exactly one of these; each raises only ProxyError and reports one ledger event per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import TypeVar

from proxy.attempts import Escalation, RequestContext
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import Provider
from proxy.router.candidates import Lane
from proxy.router.tokens import request_tokens, text_tokens
from proxy.streaming.continuation import ContinuationJoiner, continuation_joined, continuation_request
from proxy.streaming.deadlines import deadline_guard
from proxy.streaming.tools import tool_calls_whole
from proxy.types import (
    ChatRequest,
    ChatResponse,
    ClientEvent,
    EmbedRequest,
    EmbedResponse,
    Finished,
    RouteInfo,
    Started,
    StreamEnd,
    TextDelta,
    ToolCall,
    Usage,
)

T = TypeVar("T", ChatResponse, EmbedResponse)


@contextlib.contextmanager
def _reported(ctx: RequestContext) -> Iterator[None]:
    """Records the request's outcome from how the block ends, and hands the ledger event over once."""
    try:
        yield
        ctx.outcome = ctx.outcome or "ok"
    except ProxyError as error:
        ctx.outcome = error.kind.value
        raise
    finally:
        ctx.finish()


async def _first_answer(ctx: RequestContext, escalation: Escalation,
                        call: Callable[[Provider, Lane], Awaitable[T]]) -> tuple[T, RouteInfo]:
    """The first whole answer along the escalation's lanes; retryable failures move on, others are raised."""
    while (lane := await escalation.next()) is not None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, ctx.remaining())):
                answer = await call(ctx.runtime.providers[lane.provider.name], lane)
        except TimeoutError:
            error = ProxyError(ErrorKind.TIMEOUT, f"{lane.provider.name}: no answer before the request deadline",
                               provider=lane.provider.name)
        except ProxyError as exc:
            error = exc
        else:
            await escalation.succeeded(lane, answer.usage, started)
            return answer, escalation.route(lane)
        await escalation.failed(lane, error, started)
        if not error.retryable:
            raise error
    raise escalation.exhausted()


async def chat_complete(ctx: RequestContext, request: ChatRequest) -> tuple[ChatResponse, RouteInfo]:
    """A whole answer from the first lane that gives one."""
    ctx.event.requested_model = request.model
    with _reported(ctx):
        # Estimated once: it ranks the lanes and stands in for the prompt's usage a provider does not report.
        prompt_tokens = request_tokens(request)
        lanes = ctx.runtime.lineup.chat_plan(request, prompt_tokens=prompt_tokens, pins=ctx.pins, caller=ctx.caller)

        async def complete(provider: Provider, lane: Lane) -> ChatResponse:
            response = await provider.complete(request, lane.model)
            if response.usage.reported:
                return response
            return replace(response, usage=replace(response.usage, input_tokens=prompt_tokens))

        return await _first_answer(ctx, Escalation(ctx, lanes, request), complete)


async def embed(ctx: RequestContext, request: EmbedRequest) -> EmbedResponse:
    ctx.event.requested_model = request.model
    with _reported(ctx):
        lanes = ctx.runtime.lineup.embed_plan(request.model, pins=ctx.pins, caller=ctx.caller)
        result, _ = await _first_answer(ctx, Escalation(ctx, lanes),
                                        lambda provider, lane: provider.embed(request, lane.model))
        return result


@dataclass
class _Answer:
    """What the client has been sent so far, across attempts."""

    started: bool = False
    text: str = ""
    tool_calls: int = 0
    usage: Usage = Usage(0, 0)
    served_by: tuple[str, ...] = ()


async def chat_stream(ctx: RequestContext, request: ChatRequest) -> AsyncIterator[ClientEvent]:
    """The answer as client events; on failure the next lane continues it (see docs/proxy.md, failover).

    Raises ProxyError before the first event when nothing could start, or mid-stream when no lane can finish;
    the consumer renders either in the client's dialect.
    """
    ctx.event.requested_model, ctx.event.stream = request.model, True
    with _reported(ctx):
        # Estimated once: it ranks the lanes, opens the stream and stands in for usage a provider does not report.
        prompt_tokens = request_tokens(request)
        lanes = ctx.runtime.lineup.chat_plan(request, prompt_tokens=prompt_tokens, pins=ctx.pins, caller=ctx.caller)
        escalation = Escalation(ctx, lanes, request)
        answer = _Answer()
        while (lane := await escalation.next()) is not None:
            async for event in _attempt(ctx, escalation, lane, request, prompt_tokens, answer):
                yield event
            if ctx.outcome == "ok":
                return
        raise escalation.exhausted()


async def _attempt(ctx: RequestContext, escalation: Escalation, lane: Lane, request: ChatRequest, prompt_tokens: int,
                   answer: _Answer) -> AsyncIterator[ClientEvent]:
    """One lane's stream; returns quietly after a retryable failure so the caller can move on.

    `prompt_tokens` is `request`'s estimate; a continuation sends a longer prompt, estimated on its own.
    """
    name, deadlines = lane.provider.name, ctx.runtime.settings.deadlines
    continuing = bool(answer.text)
    attempt = continuation_request(request, answer.text, lane.model) if continuing else request
    started, first, sent_here = time.monotonic(), None, ""
    upstream = ctx.runtime.providers[name].stream(attempt, lane.model)
    events = tool_calls_whole(deadline_guard(upstream, first=deadlines.first_token, idle=deadlines.idle,
                                             until=ctx.deadline, provider=name), name)
    if continuing:
        # A prefilled model extends the text itself; one asked by instruction may start over or repeat its end.
        reconcile = "prefill" not in lane.model.capabilities
        events = continuation_joined(events, ContinuationJoiner(answer.text, reconcile=reconcile, provider=name))
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                first = first or time.monotonic()
                if isinstance(event, StreamEnd):
                    if event.usage is None:
                        sent = request_tokens(attempt) if continuing else prompt_tokens
                        usage = Usage(sent, text_tokens(sent_here), reported=False)
                    else:
                        usage = event.usage
                    await escalation.succeeded(lane, usage, started, first)
                    ctx.outcome = "ok"
                    _served(answer, lane)
                    yield Finished(event.stop_reason, answer.usage + usage,
                                   escalation.route(lane, served_by=answer.served_by, continued=continuing),
                                   event.stop_sequence)
                    return
                if not answer.started:
                    answer.started = True
                    yield Started(lane.model.id, prompt_tokens, escalation.route(lane))
                if isinstance(event, TextDelta):
                    answer.text += event.text
                    sent_here += event.text
                elif isinstance(event, ToolCall):
                    answer.tool_calls += 1
                _served(answer, lane)
                yield event
    except ProxyError as error:
        partial = Usage(0, text_tokens(sent_here), reported=False)
        await escalation.failed(lane, error, started, first, usage=partial)
        answer.usage += partial
        if not error.retryable:
            raise
        if answer.tool_calls:
            # A sent tool call ends what can be continued: the rest of the turn would need its result first.
            raise ProxyError(ErrorKind.STREAM_BROKEN, f"the stream failed after a tool call was sent: {error.message}",
                             provider=name) from error


def _served(answer: _Answer, lane: Lane) -> None:
    if answer.served_by[-1:] != (lane.key,):
        answer.served_by += (lane.key,)


async def tokens_count(ctx: RequestContext, request: ChatRequest) -> tuple[int, bool]:
    """(input tokens, whether a provider counted them); the estimate stands in when none can."""
    ctx.event.requested_model = request.model
    with _reported(ctx):
        lane = ctx.runtime.lineup.count_plan(request, pins=ctx.pins, caller=ctx.caller)[0]
        try:
            async with asyncio.timeout(max(0.0, min(ctx.remaining(), ctx.runtime.settings.deadlines.first_token))):
                counted = await ctx.runtime.providers[lane.provider.name].count_tokens(request, lane.model)
        except (ProxyError, TimeoutError):
            counted = None  # counting is advisory: an estimate is better than an error here
        return (counted, True) if counted is not None else (request_tokens(request), False)
