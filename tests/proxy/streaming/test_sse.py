"""Decoding providers' byte streams: line ends and message boundaries wherever the chunks split."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.streaming.sse import lines_iter, sse_iter

pytestmark = pytest.mark.anyio


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_lines_survive_any_split_including_a_split_crlf() -> None:
    body = b"event: a\r\ndata: 1\r\n\r\ndata: 2\n\n"
    for cut in range(1, len(body)):
        lines = [line async for line in lines_iter(chunks(body[:cut], body[cut:]))]
        assert lines == ["event: a", "data: 1", "", "data: 2", ""], cut


async def test_messages_join_data_lines_and_skip_comments() -> None:
    body = b": keep-alive\n\nevent: x\ndata: a\ndata: b\n\ndata:c\n\n"
    messages = [(m.event, m.data) async for m in sse_iter(lines_iter(chunks(body)))]
    assert messages == [("x", "a\nb"), ("message", "c")]
