"""Prompt caching end to end: breakpoints kept where the client put them, cache usage reported, prefixes stable."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.proxy.conftest import TEST_KEY, Stack, model_spec, provider_spec, stack_settings
from tests.proxy.fakes.anthropic import MID_SYSTEM_BETA
from tests.proxy.fakes.script import Die, Reply

pytestmark = pytest.mark.timeout(60)

EPHEMERAL = {"type": "ephemeral"}
HOUR = {"type": "ephemeral", "ttl": "1h"}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
TOOLS = [{"name": "read", "description": "Read a file", "cache_control": HOUR,
          "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]
SYSTEM = [{"type": "text", "text": "You are a coding agent.", "cache_control": HOUR},
          {"type": "text", "text": "Work in /repo.", "cache_control": EPHEMERAL}]
FIRST_TURN = [
    {"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "text", "text": "Read a.txt", "cache_control": EPHEMERAL}]},
    {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a.txt"}}]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "hello", "cache_control": EPHEMERAL}]},
]


def post(stack: Stack, body: dict[str, Any], betas: str = MID_SYSTEM_BETA) -> httpx.Response:
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01", "anthropic-beta": betas}
    response = httpx.post(f"{stack.url}/v1/messages", json=body, headers=headers, timeout=15)
    assert response.status_code == 200, response.text
    return response


def turn(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": "claude-x", "max_tokens": 512, "tools": TOOLS, "system": SYSTEM, "messages": messages, **extra}


def messages_prefix(raw: bytes) -> bytes:
    """The body's bytes up to the end of its last message: everything a provider's cache can key on."""
    text = raw.decode()
    start = text.index('"messages"')
    start = text.index("[", start)
    _, end = json.JSONDecoder().raw_decode(text, start)
    return text[:end - 1].encode()


def test_breakpoints_on_system_tools_messages_images_and_tool_results_reach_anthropic(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("It says hello."))
    post(stack, turn(FIRST_TURN))
    sent = stack.anthropic.requests[-1].body
    assert sent["system"] == SYSTEM
    assert sent["tools"][0]["cache_control"] == HOUR
    user, _, results = sent["messages"]
    assert user["content"][1]["cache_control"] == EPHEMERAL and "cache_control" not in user["content"][0]
    assert results["content"][0]["cache_control"] == EPHEMERAL


def test_two_turns_of_one_conversation_send_byte_identical_prefixes(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("It says hello."), Reply("Done."))
    post(stack, turn(FIRST_TURN))
    # The next turn appends the answer, an agent's reminder and a new question; nothing before them may change.
    second = [*FIRST_TURN, {"role": "assistant", "content": [{"type": "text", "text": "It says hello."}]},
              {"role": "system", "content": "<system-reminder>a.txt changed</system-reminder>"},
              {"role": "user", "content": [{"type": "text", "text": "Read it again"}]}]
    post(stack, turn(second))
    first, then = stack.anthropic.requests[-2].raw, stack.anthropic.requests[-1].raw
    assert then.startswith(messages_prefix(first))
    assert len(messages_prefix(then)) > len(messages_prefix(first))


def test_a_failover_continuation_keeps_the_prefix_it_continues(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Die(after=5, reply=Reply("one two three four five six seven")),
                          Reply("six seven"))
    base = stack_settings(stack.urls)
    twin = provider_spec("anthropic-twin", "anthropic", stack.urls["anthropic"],
                         model_spec("claude-x", "tools", "vision", "prefill", context_window=200000, price_in=9))
    stack.configure(providers=(*base.providers, twin), credentials={**base.credentials, "anthropic-twin": "sk-ant"})
    with httpx.stream("POST", f"{stack.url}/v1/messages", json=turn(FIRST_TURN, stream=True), timeout=15,
                      headers={"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}) as response:
        assert response.status_code == 200
        response.read()
    attempts = [r.raw for r in stack.anthropic.requests if r.path == "/v1/messages"]
    assert len(attempts) == 2
    assert attempts[1].startswith(messages_prefix(attempts[0]))


def test_cache_usage_is_reported_in_the_anthropic_dialect(stack: Stack) -> None:
    usage = {"input_tokens": 20, "cache_read_tokens": 3000, "cache_creation_tokens": 500}
    stack.anthropic.queue("claude-x", Reply("Hi.", **usage), Reply("Hi.", **usage))
    message = stack.anthropic_client().messages.create(model="claude-x", max_tokens=50,
                                                       messages=[{"role": "user", "content": "Hi"}])
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens,
            message.usage.cache_creation_input_tokens) == (20, 3000, 500)
    with stack.anthropic_client().messages.stream(model="claude-x", max_tokens=50,
                                                  messages=[{"role": "user", "content": "Hi"}]) as stream:
        final = stream.get_final_message()
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens,
            final.usage.cache_creation_input_tokens) == (20, 3000, 500)


def test_cache_usage_is_reported_in_the_openai_dialect_from_either_provider(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("Hi.", input_tokens=20, cache_read_tokens=3000))
    stack.openai.queue("gpt-x", Reply("Hi.", input_tokens=20, cache_read_tokens=1024))
    client = stack.openai_client()
    for model, cached in (("claude-x", 3000), ("gpt-x", 1024)):
        completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
        assert completion.usage is not None and completion.usage.prompt_tokens == 20 + cached
        assert completion.usage.prompt_tokens_details is not None
        assert completion.usage.prompt_tokens_details.cached_tokens == cached
