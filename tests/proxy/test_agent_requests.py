"""What coding agents send reaches providers intact: system turns in place, betas and Anthropic-only fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.proxy.conftest import TEST_KEY, Stack
from tests.proxy.fakes.anthropic import MID_SYSTEM_BETA
from tests.proxy.fakes.script import Reply

pytestmark = pytest.mark.timeout(60)

BETAS = f"claude-code-20250219,interleaved-thinking-2025-05-14,{MID_SYSTEM_BETA}"
REMINDER = "<system-reminder>The todo list is empty.</system-reminder>"
CONVERSATION = [
    {"role": "user", "content": [{"type": "text", "text": "List the files."}]},
    {"role": "assistant", "content": [{"type": "text", "text": "There are two."}]},
    {"role": "system", "content": REMINDER},
    {"role": "user", "content": [{"type": "text", "text": "Which is larger?"}]},
]
AGENT_FIELDS = {
    "thinking": {"type": "adaptive"},
    "output_config": {"effort": "medium"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
}


def messages_post(stack: Stack, body: dict[str, Any], betas: str | None = BETAS) -> httpx.Response:
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    if betas:
        headers["anthropic-beta"] = betas
    return httpx.post(f"{stack.url}/v1/messages", json=body, headers=headers, timeout=15)


def test_a_mid_conversation_system_turn_reaches_anthropic_in_place_with_the_clients_betas(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("The first."))
    response = messages_post(stack, {"model": "claude-x", "max_tokens": 100, "messages": CONVERSATION})
    assert response.status_code == 200, response.text
    sent = stack.anthropic.requests[-1]
    assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "system", "user"]
    assert sent.body["messages"][2]["content"] == [{"type": "text", "text": REMINDER}]
    assert sent.headers["anthropic-beta"] == BETAS


def test_an_anthropic_client_without_betas_still_gets_its_system_turns_passed_through(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("The first."))
    response = messages_post(stack, {"model": "claude-x", "max_tokens": 100, "messages": CONVERSATION}, betas=None)
    assert response.status_code == 200, response.text
    assert [m["role"] for m in stack.anthropic.requests[-1].body["messages"]] == ["user", "assistant", "system", "user"]
    assert "anthropic-beta" not in stack.anthropic.requests[-1].headers


def test_an_openai_clients_late_system_message_reaches_anthropic_as_a_reminder_in_place(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("The first."))
    stack.openai_client().chat.completions.create(model="claude-x", messages=[
        {"role": "user", "content": "List the files."}, {"role": "assistant", "content": "There are two."},
        {"role": "system", "content": "The todo list is empty."}, {"role": "user", "content": "Which is larger?"}])
    sent = stack.anthropic.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[2]["content"][0]["text"] == "<system-reminder>\nThe todo list is empty.\n</system-reminder>"
    assert sent[2]["content"][1]["text"] == "Which is larger?"


def test_anthropic_only_fields_are_forwarded_verbatim_to_anthropic(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("Done."))
    body = {"model": "claude-x", "max_tokens": 2000, "messages": CONVERSATION, **AGENT_FIELDS}
    response = messages_post(stack, body)
    assert response.status_code == 200, response.text
    sent = stack.anthropic.requests[-1].body
    assert {key: sent[key] for key in AGENT_FIELDS} == AGENT_FIELDS
    assert "x-legion-dropped-fields" not in response.headers


def test_other_providers_get_a_translation_and_the_response_names_what_was_left_out(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Done."))
    body = {"model": "gpt-x", "max_tokens": 2000, "messages": CONVERSATION, **AGENT_FIELDS}
    response = messages_post(stack, body)
    assert response.status_code == 200, response.text
    sent = stack.openai.requests[-1].body
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "system", "user"]
    assert not set(AGENT_FIELDS) & set(sent)
    assert response.headers["x-legion-dropped-fields"] == "context_management"
    assert response.json()["legion"]["dropped_fields"] == ["context_management"]


def test_openai_clients_keep_their_late_system_messages_in_place(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Fine."))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."}, {"role": "developer", "content": "Now in plan mode."},
                {"role": "user", "content": "Plan it."}]
    stack.openai_client().chat.completions.create(model="gpt-x", messages=messages)  # type: ignore[arg-type]
    sent = stack.openai.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello."), ("system", "Now in plan mode."),
        ("user", "Plan it.")]


def test_openai_only_fields_reach_openai_and_are_reported_dropped_elsewhere(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Fine."))
    client = stack.openai_client()
    client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "Hi"}],
                                   prompt_cache_key="session-42", seed=7)
    assert stack.openai.requests[-1].body["prompt_cache_key"] == "session-42"
    stack.anthropic.queue("claude-x", Reply("Fine."))
    raw = client.chat.completions.with_raw_response.create(
        model="claude-x", messages=[{"role": "user", "content": "Hi"}], prompt_cache_key="session-42")
    assert "prompt_cache_key" not in stack.anthropic.requests[-1].body
    assert raw.headers["x-legion-dropped-fields"] == "prompt_cache_key"


@pytest.mark.parametrize(("change", "param"), [
    ({"thinking": {"type": "sometimes"}}, "thinking.type"),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "extreme"}}, "output_config.effort"),
    ({"output_config": {"format": {"type": "xml"}}}, "output_config.format.type"),
    ({"system": [{"type": "text", "text": "x", "cache_control": "yes"}]}, "system[0].cache_control"),
    ({"messages": [{"role": "system", "content": [{"type": "image", "source": {
        "type": "url", "url": "https://example.com/a.png"}}]}]}, "messages[0].content"),
])
def test_malformed_agent_fields_are_400s_naming_the_field(stack: Stack, change: dict[str, Any], param: str) -> None:
    body = {"model": "claude-x", "max_tokens": 100, "messages": CONVERSATION, **change}
    response = messages_post(stack, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and param in error["message"]
