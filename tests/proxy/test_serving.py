"""The official OpenAI and Anthropic SDKs, unmodified, against the proxy over real HTTP, any dialect to any provider."""

from __future__ import annotations

import base64
import json
import struct

import anthropic
import httpx
import openai
import pytest

from proxy.router.tokens import request_tokens, text_tokens
from proxy.types import ChatRequest, Message, TextPart
from tests.proxy.conftest import LOCAL_ONLY_KEY, TEST_KEY, Stack
from tests.proxy.fakes.script import Reply

pytestmark = pytest.mark.timeout(60)

WEATHER_OPENAI = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
WEATHER_ANTHROPIC = {"name": "get_weather", "description": "Weather for a city",
                     "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
USER = [{"role": "user", "content": "What is the weather in Paris?"}]


def test_openai_sdk_gets_a_whole_answer_with_route_headers(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Sunny in Paris.", input_tokens=12, output_tokens=4))
    raw = stack.openai_client().chat.completions.with_raw_response.create(model="gpt-x", messages=USER)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Sunny in Paris."
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 4)
    assert raw.headers["x-legion-provider"] == "openai" and raw.headers["x-legion-failover"] == "false"


def test_usage_a_provider_leaves_out_is_the_prompt_estimate_the_proxy_made(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Sunny in Paris.", reports_usage=False))
    completion = stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == request_tokens(ChatRequest(
        model="gpt-x", messages=(Message("user", (TextPart(USER[0]["content"]),)),)))
    assert completion.usage.completion_tokens == text_tokens("Sunny in Paris.")


def test_openai_sdk_streams_text_then_usage(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("one two three", input_tokens=30, output_tokens=3))
    chunks = list(stack.openai_client().chat.completions.create(
        model="claude-x", messages=USER, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 30
    assert chunks[-1].usage.completion_tokens == 3


def test_openai_sdk_receives_each_tool_call_in_one_delta(stack: Stack) -> None:
    stack.ollama.queue("llama3", Reply("", tool_calls=[("get_weather", {"city": "Paris"})]))
    chunks = list(stack.openai_client().chat.completions.create(
        model="llama3", messages=USER, tools=[WEATHER_OPENAI], stream=True))
    calls = [call for c in chunks if c.choices for call in (c.choices[0].delta.tool_calls or [])]
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert calls[0].id
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_anthropic_sdk_gets_a_whole_message(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("Bonjour.", input_tokens=8, output_tokens=2))
    message = stack.anthropic_client().messages.create(model="claude-x", max_tokens=100, messages=USER,
                                                       system="Answer in French.")
    assert [block.type for block in message.content] == ["text"] and message.content[0].text == "Bonjour."
    assert message.stop_reason == "end_turn" and message.usage.input_tokens == 8
    assert stack.anthropic.requests[-1].body["system"] == "Answer in French."


def test_anthropic_sdk_stream_is_the_full_event_sequence(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Hello there", input_tokens=5, output_tokens=2))
    with stack.anthropic_client().messages.stream(model="gpt-x", max_tokens=100, messages=USER) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    core = [k for k in kinds if k in ("message_start", "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop")]
    assert core == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop"]
    assert final.content[0].text == "Hello there" and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 2


def test_anthropic_sdk_streams_thinking_text_and_a_whole_tool_use(stack: Stack) -> None:
    reply = Reply("Let me check.", thinking="The user wants weather.", tool_calls=[("get_weather", {"city": "Paris"})])
    stack.anthropic.queue("claude-x", reply)
    with stack.anthropic_client().messages.stream(
        model="claude-x", max_tokens=4000, messages=USER, tools=[WEATHER_ANTHROPIC],
        thinking={"type": "enabled", "budget_tokens": 2000},
    ) as stream:
        json_deltas = [e for e in stream if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
        final = stream.get_final_message()
    assert [block.type for block in final.content] == ["thinking", "text", "tool_use"]
    assert final.content[0].thinking == "The user wants weather." and final.content[0].signature == "sig-fake"
    assert final.content[2].input == {"city": "Paris"} and final.stop_reason == "tool_use"
    assert len(json_deltas) == 1
    assert stack.anthropic.requests[-1].body["thinking"] == {"type": "enabled", "budget_tokens": 2000}


def test_anthropic_sdk_reaches_an_ollama_model_with_tools(stack: Stack) -> None:
    stack.ollama.queue("llama3", Reply("", tool_calls=[("get_weather", {"city": "Lyon"})]))
    message = stack.anthropic_client().messages.create(model="llama3", max_tokens=50, messages=USER,
                                                       tools=[WEATHER_ANTHROPIC])
    assert message.stop_reason == "tool_use"
    assert message.content[0].type == "tool_use" and message.content[0].input == {"city": "Lyon"}


def test_openai_tool_results_round_trip_to_anthropic(stack: Stack) -> None:
    messages = [*USER,
                {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
                    "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"}]
    stack.openai_client().chat.completions.create(model="claude-x", messages=messages, tools=[WEATHER_OPENAI])
    sent = stack.anthropic.requests[-1].body["messages"]
    assert sent[1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]}
    assert sent[2]["content"][0]["type"] == "tool_result" and sent[2]["content"][0]["tool_use_id"] == "call_1"


def test_count_tokens_is_the_providers_count_or_an_estimate(stack: Stack) -> None:
    client = stack.anthropic_client()
    counted = client.messages.count_tokens(model="claude-x", messages=USER)
    estimated = client.messages.with_raw_response.count_tokens(model="llama3", messages=USER)
    assert counted.input_tokens >= 1000  # the fake's own formula, so the count was forwarded
    assert 0 < estimated.parse().input_tokens < 100 and estimated.headers["x-legion-token-source"] == "estimated"


def test_embeddings_through_the_openai_sdk(stack: Stack) -> None:
    result = stack.openai_client().embeddings.create(model="text-embed", input=["abc", "hello"])
    assert [row.embedding[:2] for row in result.data] == [[3.0, 0.0], [5.0, 1.0]]
    local = stack.openai_client().embeddings.create(model="nomic-embed", input="abcd", encoding_format="float")
    assert local.data[0].embedding == [4.0, 1.0]


def test_embeddings_base64_matches_float32(stack: Stack) -> None:
    response = httpx.post(f"{stack.url}/v1/embeddings", headers={"authorization": f"Bearer {TEST_KEY}"},
                          json={"model": "nomic-embed", "input": ["ab"], "encoding_format": "base64"}, timeout=10)
    raw = base64.b64decode(response.json()["data"][0]["embedding"])
    assert list(struct.unpack("<2f", raw)) == [2.0, 1.0]


def test_models_are_listed_for_both_sdks(stack: Stack) -> None:
    openai_ids = [model.id for model in stack.openai_client().models.list()]
    anthropic_ids = [model.id for model in stack.anthropic_client().models.list()]
    assert openai_ids == anthropic_ids
    assert {"llama3", "qwen", "gpt-x", "claude-x", "text-embed", "smart", "fast", "auto"} <= set(openai_ids)


def test_a_wrong_key_is_401_in_each_dialect(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        stack.openai_client(key="nope").chat.completions.create(model="gpt-x", messages=USER)
    assert raised.value.body["code"] == "unauthorized"  # type: ignore[index]
    with pytest.raises(anthropic.AuthenticationError) as denied:
        stack.anthropic_client(key="nope").messages.create(model="claude-x", max_tokens=5, messages=USER)
    assert denied.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_a_key_barred_from_external_tiers_is_routed_locally(stack: Stack) -> None:
    raw = stack.openai_client(key=LOCAL_ONLY_KEY).chat.completions.with_raw_response.create(
        model="auto", messages=USER)
    assert raw.headers["x-legion-tier"] == "local"
    with pytest.raises(openai.PermissionDeniedError) as raised:
        stack.openai_client(key=LOCAL_ONLY_KEY).chat.completions.create(model="smart", messages=USER)
    assert raised.value.body["code"] == "forbidden"  # type: ignore[index]


def test_auto_prefers_the_cheapest_capable_tier(stack: Stack) -> None:
    client = stack.openai_client()
    plain = client.chat.completions.with_raw_response.create(model="auto", messages=USER)
    vision = client.chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    assert plain.headers["x-legion-provider"] == "ollama-local"
    assert vision.headers["x-legion-provider"] == "openai"  # the cheapest model with vision


def test_headers_pin_tier_provider_and_model(stack: Stack) -> None:
    client = stack.openai_client()
    tier = client.chat.completions.with_raw_response.create(model="auto", messages=USER,
                                                            extra_headers={"x-legion-tier": "fleet"})
    provider = client.chat.completions.with_raw_response.create(model="smart", messages=USER,
                                                                extra_headers={"x-legion-provider": "openai"})
    model = client.chat.completions.with_raw_response.create(model="auto", messages=USER,
                                                             extra_headers={"x-legion-model": "claude-x"})
    assert tier.headers["x-legion-provider"] == "vllm-fleet"
    assert provider.headers["x-legion-model"] == "gpt-x"
    assert model.headers["x-legion-provider"] == "anthropic"


def test_status_lists_providers_and_breakers(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/v1/legion/status", headers={"x-api-key": TEST_KEY}, timeout=10)
    providers = {p["name"]: p for p in response.json()["providers"]}
    assert providers["anthropic"]["tier"] == "frontier" and providers["anthropic"]["breaker"] == "closed"
    assert providers["ollama-local"]["models"] == ["llama3", "nomic-embed"]
