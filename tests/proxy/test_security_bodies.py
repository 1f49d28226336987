"""Request bodies are checked before they are read: method, key and Content-Length from the headers, then a running
count; what is read is bounded in depth, and image URLs are https or data only. All refusals are 4xx in the
caller's dialect naming the limit, and a served `legion proxy` stays flat in memory under 1 GB of unwanted body."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest

from tests.proxy.conftest import TEST_KEY, Stack
from tests.support import MANAGE, free_port, full_env, upload_stream, wait_for

pytestmark = pytest.mark.timeout(120)

GB = 1 << 30
OPENAI_OK = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC_OK = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
KEYED = f"authorization: Bearer {TEST_KEY}\r\n"


def head(path: str, *, length: int | None = None, extra: str = "") -> str:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return f"POST {path} HTTP/1.1\r\nhost: proxy\r\ncontent-type: application/json\r\n{extra}{framing}"


def answer(upload_response: bytes) -> dict[str, Any]:
    head_end = upload_response.index(b"\r\n\r\n") + 4
    return dict(json.loads(upload_response[head_end:]))


def post(stack: Stack, path: str, body: bytes | dict[str, Any]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{stack.url}{path}", content=content, timeout=10,
                      headers={"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"})


def test_a_declared_oversized_body_is_refused_from_its_headers_in_the_callers_dialect(stack: Stack) -> None:
    # Nothing of the body is sent until the answer is in: a proxy waiting for it would time the test out.
    for path, error_of in (("/v1/chat/completions", lambda b: b["error"]), ("/v1/messages", lambda b: b["error"])):
        refused = upload_stream(stack.proxy.port, head(path, length=GB, extra=KEYED), total=0, chunked=False,
                                deadline=10)
        error = error_of(answer(refused.response))
        assert refused.status == 413 and error["code"] == "request_too_large"
        assert str(16 * 1024 * 1024) in error["message"] and "proxy.max_body_bytes" in error["message"]
        assert b"connection: close" in refused.response.lower()
    assert answer(refused.response)["error"]["type"] == "request_too_large"  # Anthropic's own name for it


def test_an_unauthenticated_body_is_refused_before_it_is_read(stack: Stack) -> None:
    refused = upload_stream(stack.proxy.port, head("/v1/chat/completions", length=GB), total=0, chunked=False,
                            deadline=10)
    assert refused.status == 401 and answer(refused.response)["error"]["code"] == "unauthorized"


def test_a_chunked_body_is_refused_once_the_running_count_passes_the_limit(stack: Stack) -> None:
    stack.configure(max_body_bytes=2 << 20)
    refused = upload_stream(stack.proxy.port, head("/v1/chat/completions", extra=KEYED), total=GB, chunked=True,
                            deadline=20)
    assert refused.status == 413
    assert refused.sent < 64 << 20, "answered as the limit passed, not after draining the body"
    # The server closes with our in-flight bytes unread, so its TCP reset may discard the answer's body after we
    # read its head (uvicorn has no lingering close); when the body did arrive, it names the limit.
    if refused.response.partition(b"\r\n\r\n")[2]:
        assert str(2 << 20) in answer(refused.response)["error"]["message"]


def test_a_body_within_the_limit_is_still_served(stack: Stack) -> None:
    response = httpx.post(f"{stack.url}/v1/chat/completions", timeout=10,
                          content=iter([json.dumps(OPENAI_OK).encode()]),  # an iterator: sent chunked
                          headers={"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"})
    assert response.status_code == 200, response.text


def nested(depth: int) -> str:
    """A JSON Schema object whose properties nest `depth` levels (two JSON levels each); built as text, since
    Python's own json could not write (or read) the deepest of these."""
    return '{"type": "object", "properties": {"x": ' * depth + '{"type": "object"}' + "}}" * depth


def with_field(body: dict[str, Any], field: str, raw: str) -> bytes:
    return (json.dumps(body)[:-1] + f', "{field}": {raw}}}').encode()


DEEP = {
    "array_in_chat": ("/v1/chat/completions", with_field(OPENAI_OK, "metadata", "[" * 5000 + "]" * 5000)),
    "anthropic_tool_schema": ("/v1/messages", with_field(ANTHROPIC_OK, "tools", f'[{{"name": "t", "input_schema": '
                                                                                 f"{nested(2000)}}}]")),
    "openai_tool_schema": ("/v1/chat/completions", with_field(OPENAI_OK, "tools", '[{"type": "function", "function": '
                                                                              f'{{"name": "t", "parameters": '
                                                                              f"{nested(300)}}}}}]")),
    "responses_tool_schema": ("/v1/responses", with_field({"model": "gpt-x", "input": "hi"}, "tools",
                                                          f'[{{"type": "function", "name": "t", "parameters": '
                                                          f"{nested(300)}}}]")),
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deeply_nested_json_and_tool_schemas_are_a_400_naming_the_limit(stack: Stack, case: str) -> None:
    path, body = DEEP[case]
    response = post(stack, path, body)
    assert response.status_code == 400, response.text
    assert "64" in response.json()["error"]["message"] and "proxy.max_json_depth" in response.text


def test_a_tool_schema_nested_within_the_limit_is_accepted(stack: Stack) -> None:
    # 2 levels of the body, 2 per schema level: 30 schema levels stay within 64.
    tool = f'[{{"type": "function", "function": {{"name": "t", "parameters": {nested(29)}}}}}]'
    response = post(stack, "/v1/chat/completions", with_field({**OPENAI_OK, "model": "llama3"}, "tools", tool))
    assert response.status_code == 200, response.text


SCHEMES = ["http://example.com/cat.png", "file:///etc/passwd", "ftp://10.0.0.1/x.png", "gopher://127.0.0.1:6379/_"]


@pytest.mark.parametrize("url", SCHEMES)
def test_image_urls_other_than_https_and_data_are_refused_in_every_dialect(stack: Stack, url: str) -> None:
    openai_part = {"type": "image_url", "image_url": {"url": url}}
    anthropic_part = {"type": "image", "source": {"type": "url", "url": url}}
    responses_part = {"type": "input_image", "image_url": url}
    cases = [
        ("/v1/chat/completions", {**OPENAI_OK, "messages": [{"role": "user", "content": [openai_part]}]},
         "messages[0].content[0].image_url.url"),
        ("/v1/messages", {**ANTHROPIC_OK, "messages": [{"role": "user", "content": [anthropic_part]}]},
         "messages[0].content[0].source.url"),
        ("/v1/responses", {"model": "gpt-x", "input": [{"role": "user", "content": [responses_part]}]},
         "input[0].content[0].image_url"),
    ]
    for path, body, field in cases:
        response = post(stack, path, body)
        assert response.status_code == 400, (path, response.text)
        assert field in response.text and "https" in response.json()["error"]["message"]


def test_https_and_data_image_urls_are_accepted(stack: Stack) -> None:
    content = [{"type": "text", "text": "what is it?"},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    response = post(stack, "/v1/chat/completions",
                    {**OPENAI_OK, "messages": [{"role": "user", "content": content}]})
    assert response.status_code == 200, response.text


@pytest.fixture
def served_proxy(proxy_keys: None, test_database: str) -> Iterator[tuple[int, psutil.Process]]:
    """`legion proxy` (full mode) as its own process, with the suite's keys in its database."""
    port = free_port()
    process = subprocess.Popen([*MANAGE, "proxy", "--port", str(port)], env=full_env(test_database),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/models", process)
        yield port, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_served_proxy_refuses_a_gigabyte_of_body_with_flat_memory(
        served_proxy: tuple[int, psutil.Process]) -> None:
    port, process = served_proxy
    httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"authorization": f"Bearer {TEST_KEY}"}, timeout=10)
    before = process.memory_info().rss
    uploads = [
        (upload_stream(port, head("/v1/chat/completions", length=GB), total=GB, chunked=False), 401),
        (upload_stream(port, head("/v1/chat/completions"), total=GB, chunked=True), 401),
        (upload_stream(port, head("/v1/messages", length=GB, extra=KEYED), total=GB, chunked=False), 413),
        (upload_stream(port, head("/v1/messages", extra=KEYED), total=GB, chunked=True), 413),
    ]
    growth = process.memory_info().rss - before
    assert [upload.status for upload, _ in uploads] == [status for _, status in uploads]
    assert all(upload.sent <= 64 << 20 for upload, _ in uploads), [upload.sent for upload, _ in uploads]
    assert growth < 50 << 20, f"RSS grew by {growth >> 20} MB"
