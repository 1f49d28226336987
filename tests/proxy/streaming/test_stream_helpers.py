"""The short generators streams are stacked from: deadlines, tool-call buffering, keep-alives, continuation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.streaming.continuation import ContinuationJoiner
from proxy.streaming.deadlines import deadline_guard
from proxy.streaming.keepalive import with_keepalives
from proxy.streaming.tools import tool_calls_whole
from proxy.types import KeepAlive, ProviderEvent, StopReason, StreamEnd, TextDelta, ToolCall, ToolCallDelta

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


async def timed(*events: tuple[float, ProviderEvent]) -> AsyncIterator[ProviderEvent]:
    for delay, event in events:
        await asyncio.sleep(delay)
        yield event


async def test_deadline_guard_enforces_first_token_then_idle_gap() -> None:
    slow_start = timed((0.3, TextDelta("late")))
    with pytest.raises(ProxyError) as first:
        [e async for e in deadline_guard(slow_start, first=0.1, idle=1, until=time.monotonic() + 5, provider="p")]
    stalls = timed((0.0, TextDelta("a")), (0.3, TextDelta("b")))
    seen = []
    with pytest.raises(ProxyError) as idle:
        async for event in deadline_guard(stalls, first=1, idle=0.1, until=time.monotonic() + 5, provider="p"):
            seen.append(event)
    assert first.value.kind is idle.value.kind is ErrorKind.TIMEOUT
    assert seen == [TextDelta("a")]


async def test_deadline_guard_stops_at_the_request_deadline() -> None:
    steady = timed(*[(0.05, TextDelta("x"))] * 20)
    started = time.monotonic()
    with pytest.raises(ProxyError):
        [e async for e in deadline_guard(steady, first=1, idle=1, until=started + 0.2, provider="p")]
    assert time.monotonic() - started < 0.5


async def test_tool_calls_are_released_whole_at_the_end() -> None:
    events = timed((0, TextDelta("Checking.")), (0, ToolCallDelta(0, id="c1", name="f")),
                   (0, ToolCallDelta(0, arguments='{"a"')), (0, ToolCallDelta(0, arguments=": 1}")),
                   (0, ToolCallDelta(1, id="c2", name="g")), (0, StreamEnd(StopReason.TOOL_USE)))
    out = [e async for e in tool_calls_whole(events, "p")]
    assert out == [TextDelta("Checking."), ToolCall("c1", "f", '{"a": 1}'), ToolCall("c2", "g", "{}"),
                   StreamEnd(StopReason.TOOL_USE)]
    assert json.loads(out[1].arguments) == {"a": 1}  # type: ignore[union-attr]


async def test_a_stream_ending_mid_tool_call_releases_nothing() -> None:
    events = timed((0, ToolCallDelta(0, id="c1", name="f")), (0, ToolCallDelta(0, arguments='{"a"')))
    assert [e async for e in tool_calls_whole(events, "p")] == []


async def test_malformed_tool_arguments_are_a_broken_stream() -> None:
    events = timed((0, ToolCallDelta(0, id="c1", name="f", arguments="{oops")), (0, StreamEnd(StopReason.TOOL_USE)))
    with pytest.raises(ProxyError) as raised:
        [e async for e in tool_calls_whole(events, "p")]
    assert raised.value.kind is ErrorKind.STREAM_BROKEN


async def test_keepalives_fill_silences_without_losing_events() -> None:
    events = timed((0.25, TextDelta("a")), (0.0, TextDelta("b")))
    out = [e async for e in with_keepalives(events, 0.1)]
    assert [e for e in out if not isinstance(e, KeepAlive)] == [TextDelta("a"), TextDelta("b")]
    assert 1 <= sum(isinstance(e, KeepAlive) for e in out) <= 3


def test_joiner_drops_only_whitespace_the_client_already_has() -> None:
    joiner = ContinuationJoiner("Once upon a ")
    assert [joiner.feed(t) for t in [" ", " time", " there"]] == ["", "time", " there"]
    assert ContinuationJoiner("Once upon a").feed(" time") == " time"
