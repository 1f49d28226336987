"""Bodies bounded as they arrive (declared length, then a running count) and JSON depth measured on the bytes."""

from __future__ import annotations

import json
import time

import pytest

from apps.core.bodies import BodyCounter, BodyTooLarge, json_too_deep


def test_a_declared_length_over_the_limit_is_refused_from_the_headers() -> None:
    with pytest.raises(BodyTooLarge) as refused:
        BodyCounter(100).headers_check([(b"Content-Length", b"101")])
    assert refused.value.size == 101 and "limit of 100 bytes" in str(refused.value)
    BodyCounter(100).headers_check([(b"content-length", b"100"), (b"transfer-encoding", b"chunked")])


def test_chunks_are_counted_until_the_limit_passes() -> None:
    counter = BodyCounter(10)
    assert counter.chunk({"body": b"x" * 6}) == b"x" * 6 and counter.chunk({}) == b""
    with pytest.raises(BodyTooLarge):
        counter.chunk({"body": b"x" * 5})


@pytest.mark.parametrize("depth", [0, 1, 63, 64, 65, 5000])
def test_depth_is_counted_across_arrays_and_objects(depth: int) -> None:
    opening = "".join('{"a": ' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    assert json_too_deep((opening + "1" + closing).encode(), 64) is (depth > 64)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": ["[{" * 100, 'quote " and backslash \\ [[[' * 50, "\\" * 3 + "["]})
    assert not json_too_deep(text.encode(), 3)
    assert json_too_deep(json.dumps({"a": [[[["\\\\"]]]]}).encode(), 4)


def test_text_too_broken_to_pair_is_left_to_the_decoder() -> None:
    assert not json_too_deep(b"{" * 100, 64) and not json_too_deep(b"]" * 100 + b"[" * 100, 64)


@pytest.mark.parametrize("body", [b"[" * 8_000_000 + b"]" * 8_000_000, (b"[" * 60 + b"]" * 60) * 130_000,
                                  b"[]" * 8_000_000, b'{"a": [1, {"b": []}]},' * 700_000])
def test_sixteen_megabytes_of_hostile_brackets_take_about_as_long_as_decoding_them(body: bytes) -> None:
    started = time.perf_counter()
    json_too_deep(body, 64)
    assert time.perf_counter() - started < 3
