"""Every request Claude Code and Codex were captured sending is answered by the proxy and reaches the upstream intact.

Each captured body is POSTed, with the client's own headers, to the served proxy in front of the fake
providers; the captured model names are aliases of a fake's model, so the body goes through unchanged.
Issue 8 is what these specify: on a branch without its dialect work (mid-conversation system messages,
`anthropic-beta` and the newer Anthropic fields forwarded, `cache_control` kept, `/v1/responses`), they fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.proxy.clients.launch import NOTE_TEXT
from tests.proxy.clients.recorded import Captured, captured
from tests.proxy.clients.wire import sse_payloads
from tests.proxy.conftest import TEST_KEY, Stack
from tests.proxy.fakes.script import Reply

pytestmark = pytest.mark.timeout(60)

# A pin moved without a recapture (`python -m tests.proxy.clients.capture`) fails the first test below.
PINS = Path(__file__).resolve().parents[3] / "requirements" / "clients"
CLAUDE = captured("claude-code")
CODEX = captured("codex")
ANSWER = Reply().text
ANTHROPIC_CORE = ("message_start", "content_block_start", "content_block_delta", "content_block_stop",
                  "message_delta", "message_stop")
# Fields of Claude Code's requests an Anthropic upstream must get as sent (issue 8 names these; max_tokens may
# be clamped to the model's limit, so it is not among them).
ANTHROPIC_FIELDS = ("thinking", "output_config", "context_management", "stream")


def test_the_fixtures_are_captured_from_the_pinned_clients() -> None:
    pins = json.loads((PINS / "package.json").read_text())["dependencies"]
    assert {request.version for request in CLAUDE} == {pins["@anthropic-ai/claude-code"]}
    assert {request.version for request in CODEX} == {pins["@openai/codex"]}


def ids(requests: list[Captured]) -> list[str]:
    return [request.name for request in requests]


def aliased(stack: Stack, requests: list[Captured], model: str) -> None:
    """Make every captured model name an alias of the fake's `model`, so bodies need no edit."""
    stack.configure(aliases={name: (model,) for name in {request.body["model"] for request in requests}})


def replay(stack: Stack, request: Captured) -> httpx.Response:
    key = {"x-api-key": TEST_KEY} if request.client == "claude-code" else {"authorization": f"Bearer {TEST_KEY}"}
    return httpx.post(stack.url + request.url_path, headers={**request.replay_headers(), **key,
                                                             "content-type": "application/json"},
                      content=json.dumps(request.body).encode(), timeout=30)


def blocks(content: Any) -> list[dict[str, Any]]:
    """Content as a list of blocks: a bare string is one text block to Anthropic's API, so either form is equal."""
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def anthropic_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    normal = []
    for message in messages:
        content = [{**block, "content": blocks(block["content"])} if block.get("type") == "tool_result"
                   and "content" in block else block for block in blocks(message["content"])]
        normal.append({**message, "content": content})
    return normal


@pytest.fixture
def claude_via_anthropic(stack: Stack) -> Stack:
    aliased(stack, CLAUDE, "claude-x")
    return stack


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_request_is_answered_with_the_anthropic_event_stream(claude_via_anthropic: Stack,
                                                                         request_: Captured) -> None:
    response = replay(claude_via_anthropic, request_)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [event for event in sse_payloads(response.text) if event["type"] in ANTHROPIC_CORE]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    text = "".join(event["delta"].get("text", "") for event in events if event["type"] == "content_block_delta")
    assert text == ANSWER


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_betas_reach_an_anthropic_upstream(claude_via_anthropic: Stack, request_: Captured) -> None:
    replay(claude_via_anthropic, request_)
    sent = claude_via_anthropic.anthropic.requests[-1]
    assert set(sent.headers["anthropic-beta"].split(",")) == set(request_.headers["anthropic-beta"].split(","))
    assert sent.headers["anthropic-version"] == request_.headers["anthropic-version"]


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_system_blocks_keep_their_cache_breakpoints(claude_via_anthropic: Stack,
                                                                 request_: Captured) -> None:
    replay(claude_via_anthropic, request_)
    sent = claude_via_anthropic.anthropic.requests[-1].body
    assert blocks(sent["system"]) == blocks(request_.body["system"])


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_messages_reach_anthropic_in_place_with_mid_conversation_system_and_breakpoints(
        claude_via_anthropic: Stack, request_: Captured) -> None:
    assert any(message["role"] == "system" for message in request_.body["messages"])  # what this specifies
    replay(claude_via_anthropic, request_)
    sent = claude_via_anthropic.anthropic.requests[-1].body
    assert anthropic_messages(sent["messages"]) == anthropic_messages(request_.body["messages"])


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_tools_and_newer_fields_reach_anthropic_whole(claude_via_anthropic: Stack,
                                                                  request_: Captured) -> None:
    replay(claude_via_anthropic, request_)
    sent = claude_via_anthropic.anthropic.requests[-1].body
    assert sent["tools"] == request_.body["tools"]  # defer_loading and cache_control included
    assert {f: sent.get(f) for f in ANTHROPIC_FIELDS} == {f: request_.body.get(f) for f in ANTHROPIC_FIELDS}


@pytest.mark.parametrize("request_", CLAUDE, ids=ids(CLAUDE))
def test_claude_code_mid_conversation_system_is_rendered_in_place_for_a_chat_upstream(stack: Stack,
                                                                                     request_: Captured) -> None:
    aliased(stack, CLAUDE, "gpt-x")
    response = replay(stack, request_)
    assert response.status_code == 200, response.text
    messages = stack.openai.requests[-1].body["messages"]
    reminder = next(m for m in request_.body["messages"] if m["role"] == "system")
    marker = blocks(reminder["content"])[0]["text"].splitlines()[1]  # "You have been invoked in the following …"
    leading = json.dumps(messages[0]) if messages[0]["role"] == "system" else ""
    assert marker not in leading  # not hoisted into the leading system prompt
    assert any(marker in json.dumps(m) for m in messages[1:])


def chat_text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


@pytest.fixture
def codex_via_chat(stack: Stack) -> Stack:
    aliased(stack, CODEX, "gpt-x")
    return stack


@pytest.mark.parametrize("request_", CODEX, ids=ids(CODEX))
def test_codex_request_is_answered_with_the_responses_event_stream(codex_via_chat: Stack,
                                                                   request_: Captured) -> None:
    response = replay(codex_via_chat, request_)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_payloads(response.text)
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
    text = "".join(event["delta"] for event in events if event["type"] == "response.output_text.delta")
    assert text == ANSWER
    done = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    assert [item["type"] for item in done] == ["message"]
    assert events[-1]["response"]["usage"]["input_tokens"] == Reply().input_tokens


@pytest.mark.parametrize("request_", CODEX, ids=ids(CODEX))
def test_codex_conversation_reaches_a_chat_upstream_in_order(codex_via_chat: Stack, request_: Captured) -> None:
    replay(codex_via_chat, request_)
    sent = codex_via_chat.openai.requests[-1].body
    messages = sent["messages"]
    developer = [item for item in request_.body["input"] if item.get("role") == "developer"
                 and item.get("type") == "message"]
    # Codex's leading developer messages are its system prompt; the user's prompt is the last user message.
    assert messages[0]["role"] == "system"
    assert developer[0]["content"][0]["text"] in chat_text(messages[0])
    prompt = [item for item in request_.body["input"] if item.get("role") == "user"][-1]["content"][0]["text"]
    assert any(m["role"] == "user" and prompt in chat_text(m) for m in messages)
    top_level = {tool["name"] for tool in request_.body.get("tools", []) if tool.get("type") == "function"}
    assert top_level <= {tool["function"]["name"] for tool in sent.get("tools") or []}


@pytest.mark.parametrize("request_", [r for r in CODEX if r.scenario == "tool" and r.step == 2],
                         ids=ids([r for r in CODEX if r.scenario == "tool" and r.step == 2]))
def test_codex_tool_call_and_its_output_reach_a_chat_upstream_paired(codex_via_chat: Stack,
                                                                     request_: Captured) -> None:
    replay(codex_via_chat, request_)
    messages = codex_via_chat.openai.requests[-1].body["messages"]
    calls = [call for m in messages if m["role"] == "assistant" for call in m.get("tool_calls") or []]
    results = [m for m in messages if m["role"] == "tool"]
    assert len(calls) == 1 and len(results) == 1
    assert results[0]["tool_call_id"] == calls[0]["id"]
    assert NOTE_TEXT in chat_text(results[0])
