"""Bad requests get a 400 in the client's own dialect naming the problem; never a 500 or a traceback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.proxy.conftest import TEST_KEY, Stack

pytestmark = pytest.mark.timeout(60)

OPENAI_OK = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC_OK = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
TOOL = {"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}}


def post(stack: Stack, path: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{stack.url}{path}", content=content, timeout=10,
                      headers={"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"})


OPENAI_CASES = {
    "malformed_json": (b'{"model": "gpt-x", "messages": [', "invalid_request", None),
    "unknown_model": ({**OPENAI_OK, "model": "gpt-nope"}, "unknown_model", "model"),
    "messages_wrong_type": ({**OPENAI_OK, "messages": "hi"}, "invalid_request", "messages"),
    "temperature_wrong_type": ({**OPENAI_OK, "temperature": "hot"}, "invalid_request", "temperature"),
    "temperature_out_of_range": ({**OPENAI_OK, "temperature": 5}, "invalid_request", "temperature"),
    "bad_role": ({**OPENAI_OK, "messages": [{"role": "wizard", "content": "x"}]}, "invalid_request",
                 "messages[0].role"),
    "too_many_messages": ({**OPENAI_OK, "messages": [{"role": "user", "content": "x"}] * 2001}, "invalid_request",
                          "messages"),
    "invalid_tool_schema": ({**OPENAI_OK, "tools": [{"type": "function", "function": {
        "name": "t", "parameters": {"type": "object", "properties": {"a": {"type": "colour"}}}}}]},
        "invalid_request", "tools[0].function"),
    "bad_tool_name": ({**OPENAI_OK, "tools": [{"type": "function", "function": {"name": "has space"}}]},
                      "invalid_request", "tools[0].function.name"),
    "duplicate_tools": ({**OPENAI_OK, "tools": [TOOL, TOOL]}, "invalid_request", "tools"),
    "bad_tool_arguments": ({**OPENAI_OK, "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {
        "name": "t", "arguments": "{not json"}}]}]}, "invalid_request", "messages[0].tool_calls[0].function.arguments"),
    "body_not_object": (b"[1, 2]", "invalid_request", None),
    "bad_pinned_tier": (OPENAI_OK, "invalid_request", "x-legion-tier"),
}


@pytest.mark.parametrize("case", sorted(OPENAI_CASES))
def test_openai_dialect_rejects_bad_requests_with_400(stack: Stack, case: str) -> None:
    body, code, param = OPENAI_CASES[case]
    if case == "bad_pinned_tier":
        response = httpx.post(f"{stack.url}/v1/chat/completions", json=body, timeout=10,
                              headers={"authorization": f"Bearer {TEST_KEY}", "x-legion-tier": "orbit"})
    else:
        response = post(stack, "/v1/chat/completions", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["param"] == param and error["type"] == "invalid_request_error"
    assert "Traceback" not in response.text


ANTHROPIC_CASES = {
    "malformed_json": (b"{", None),
    "missing_max_tokens": ({k: v for k, v in ANTHROPIC_OK.items() if k != "max_tokens"}, "max_tokens"),
    "unknown_model": ({**ANTHROPIC_OK, "model": "claude-nope"}, "model"),
    "system_wrong_type": ({**ANTHROPIC_OK, "system": 42}, "system"),
    "tool_without_schema": ({**ANTHROPIC_OK, "tools": [{"name": "t"}]}, "tools[0].input_schema"),
    "tool_schema_not_object": ({**ANTHROPIC_OK, "tools": [{"name": "t", "input_schema": {"type": "string"}}]},
                               "tools[0]"),
    "unsupported_block": ({**ANTHROPIC_OK, "messages": [{"role": "user", "content": [{"type": "hologram"}]}]},
                          "messages[0].content[0].type"),
    "empty_messages": ({**ANTHROPIC_OK, "messages": []}, "messages"),
}


@pytest.mark.parametrize("case", sorted(ANTHROPIC_CASES))
def test_anthropic_dialect_rejects_bad_requests_with_400(stack: Stack, case: str) -> None:
    body, param = ANTHROPIC_CASES[case]
    response = post(stack, "/v1/messages", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    if param:
        assert param in payload["error"]["message"]


def test_a_body_over_the_size_limit_is_refused(stack: Stack) -> None:
    stack.configure(max_body_bytes=1000)
    big = {**ANTHROPIC_OK, "messages": [{"role": "user", "content": "x" * 2000}]}
    response = post(stack, "/v1/messages", big)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_a_prompt_larger_than_every_window_is_refused_as_providers_word_it(stack: Stack) -> None:
    response = post(stack, "/v1/chat/completions", {**OPENAI_OK, "model": "llama3",
                                                     "messages": [{"role": "user", "content": "word " * 40000}]})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "context_length" and "window" in error["message"]
    # Anthropic's own wording: Claude Code reads "prompt is too long" as its cue to compact the conversation.
    response = post(stack, "/v1/messages", {**ANTHROPIC_OK, "model": "llama3",
                                            "messages": [{"role": "user", "content": "word " * 40000}]})
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith("prompt is too long: ~50")


def test_a_request_needing_tools_skips_models_without_them(stack: Stack) -> None:
    response = post(stack, "/v1/chat/completions", {**OPENAI_OK, "model": "nomic-embed", "tools": [TOOL]})
    assert response.status_code == 400 and "embeddings" in response.json()["error"]["message"]


def test_wrong_method_is_405_in_dialect(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/v1/chat/completions", headers={"authorization": f"Bearer {TEST_KEY}"})
    assert response.status_code == 405 and "error" in response.json()
