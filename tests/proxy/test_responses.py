"""`POST /v1/responses` through the official OpenAI SDK (`responses.create`, `responses.stream`), any provider."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.proxy.conftest import TEST_KEY, Stack
from tests.proxy.fakes.script import Die, Fail, Reply, Stall

pytestmark = pytest.mark.timeout(60)

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city", "strict": False,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
ASK = "What is the weather in Paris?"
LIFECYCLE = ("response.created", "response.in_progress", "response.completed", "response.incomplete",
             "response.failed")


def post(stack: Stack, body: Any) -> httpx.Response:
    return httpx.post(f"{stack.url}/v1/responses", json=body, timeout=10,
                      headers={"authorization": f"Bearer {TEST_KEY}"})


def test_create_answers_with_text_usage_and_route(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("Sunny in Paris.", input_tokens=12, output_tokens=4))
    raw = stack.openai_client().responses.with_raw_response.create(model="gpt-x", input=ASK, store=False)
    response = raw.parse()
    assert response.output_text == "Sunny in Paris." and response.status == "completed"
    assert response.id.startswith("resp_") and response.output[0].type == "message"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (12, 4, 16)
    assert raw.headers["x-legion-provider"] == "openai"
    assert json.loads(raw.text)["legion"]["provider"] == "openai"
    assert stack.openai.requests[-1].body["messages"] == [{"role": "user", "content": ASK}]


def test_create_returns_a_function_call_from_an_anthropic_model(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("", tool_calls=[("get_weather", {"city": "Paris"})]))
    response = stack.openai_client().responses.create(model="claude-x", input=ASK, tools=[WEATHER])  # type: ignore[list-item]
    [call] = response.output
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id == "toolu_0"
    assert json.loads(call.arguments) == {"city": "Paris"} and call.status == "completed"
    assert stack.anthropic.requests[-1].body["tools"][0]["input_schema"] == WEATHER["parameters"]


def test_a_function_call_output_completes_the_turn(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("18C and sunny."))
    response = stack.openai_client().responses.create(model="claude-x", tools=[WEATHER], input=[  # type: ignore[list-item]
        {"role": "user", "content": ASK},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C, sun"},
    ])
    assert response.output_text == "18C and sunny."
    sent = stack.anthropic.requests[-1].body["messages"]
    assert sent[1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]}
    assert sent[2]["content"][0]["tool_use_id"] == "call_1" and sent[2]["content"][0]["content"] == [
        {"type": "text", "text": "18C, sun"}]


def test_stream_is_the_responses_event_sequence(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("Hello there", input_tokens=5, output_tokens=2))
    with stack.openai_client().responses.stream(model="claude-x", input=ASK, instructions="Be brief.",
                                                store=False) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                     "response.output_text.done", "response.content_part.done", "response.output_item.done",
                     "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert final.output_text == "Hello there" and final.usage.output_tokens == 2
    assert final.instructions == "Be brief."
    assert stack.anthropic.requests[-1].body["system"] == "Be brief."


def test_stream_carries_a_tool_call_and_its_arguments(stack: Stack) -> None:
    stack.ollama.queue("llama3", Reply("", tool_calls=[("get_weather", {"city": "Lyon"})]))
    with stack.openai_client().responses.stream(model="llama3", input=ASK, tools=[WEATHER]) as stream:  # type: ignore[list-item]
        deltas = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Lyon"}
    assert json.loads("".join(deltas)) == {"city": "Lyon"}


def test_reasoning_effort_is_a_thinking_budget_and_reasoning_round_trips(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("It is sunny.", thinking="The user wants weather."))
    client = stack.openai_client()
    with client.responses.stream(model="claude-x", input=ASK, max_output_tokens=8000,
                                 reasoning={"effort": "medium", "summary": "auto"}) as stream:
        summary = "".join(e.delta for e in stream if e.type == "response.reasoning_summary_text.delta")
        final = stream.get_final_response()
    assert stack.anthropic.requests[-1].body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    reasoning, message = final.output
    assert summary == "The user wants weather." and reasoning.type == "reasoning" and message.type == "message"
    # Passed back as Codex does (store false, the whole input), the thinking reaches Anthropic with its signature.
    client.responses.create(model="claude-x", store=False, input=[  # type: ignore[list-item]
        {"role": "user", "content": ASK}, reasoning.model_dump(exclude_none=True),
        message.model_dump(exclude_none=True), {"role": "user", "content": "And tomorrow?"}])
    sent = stack.anthropic.requests[-1].body["messages"]
    assert sent[1]["content"][0] == {"type": "thinking", "thinking": "The user wants weather.",
                                     "signature": "sig-fake"}


def test_usage_reports_cached_prompt_tokens(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", Reply("ok", input_tokens=12, output_tokens=1, cache_read_tokens=8))
    response = stack.openai_client().responses.create(model="claude-x", input=ASK)
    assert response.usage.input_tokens == 20 and response.usage.input_tokens_details.cached_tokens == 8


def test_a_json_schema_text_format_is_the_response_format_upstream(stack: Stack) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    stack.openai.queue("gpt-x", Reply('{"city": "Paris"}'))
    response = stack.openai_client().responses.create(model="gpt-x", input=ASK, text={"format": {
        "type": "json_schema", "name": "place", "schema": schema, "strict": True}})
    assert json.loads(response.output_text) == {"city": "Paris"}
    assert stack.openai.requests[-1].body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "place", "schema": schema}}


def test_a_failure_before_the_stream_starts_is_an_http_error(stack: Stack) -> None:
    stack.configure(max_attempts=1)
    stack.openai.queue("gpt-x", Fail("rate_limit", retry_after=3))
    with pytest.raises(openai.RateLimitError) as raised:
        with stack.openai_client().responses.stream(model="gpt-x", input=ASK) as stream:
            list(stream)
    assert raised.value.body["code"] == "rate_limited"  # type: ignore[index]


def test_a_slow_start_carries_keepalive_comments_the_sdk_skips(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Stall(seconds=0.6, reply=Reply("slow but sure")))
    with httpx.stream("POST", f"{stack.url}/v1/responses", timeout=10, headers={"authorization": f"Bearer {TEST_KEY}"},
                      json={"model": "gpt-x", "input": ASK, "stream": True}) as raw:
        body = raw.read().decode()
    assert ": keep-alive\n\n" in body
    stack.openai.queue("gpt-x", Stall(seconds=0.6, reply=Reply("slow but sure")))
    with stack.openai_client().responses.stream(model="gpt-x", input=ASK) as stream:
        assert stream.get_final_response().output_text == "slow but sure"


def test_previous_response_id_is_refused_naming_it(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        stack.openai_client().responses.create(model="gpt-x", input=ASK, previous_response_id="resp_123")
    assert raised.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert raised.value.body["code"] == "invalid_request"  # type: ignore[index]


def test_a_stream_that_dies_with_nowhere_to_go_ends_in_response_failed(stack: Stack) -> None:
    stack.configure(max_attempts=1)
    stack.openai.queue("gpt-x", Die(after=3, reply=Reply("one two three four five")))
    with stack.openai_client().responses.stream(model="gpt-x", input=ASK) as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error is not None and failed.response.error.code == "server_error"
    assert [e.type for e in events if e.type in LIFECYCLE] == ["response.created", "response.in_progress",
                                                              "response.failed"]


def test_a_mid_conversation_developer_item_stays_in_place(stack: Stack) -> None:
    stack.openai_client().responses.create(model="gpt-x", input=[
        {"role": "developer", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]},
        {"role": "developer", "content": [{"type": "input_text", "text": "Reminder: cite sources."}]},
        {"role": "user", "content": ASK},
    ])
    sent = stack.openai.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", "You are terse."), ("user", "Hi"), ("assistant", "Hello."), ("system", "Reminder: cite sources."),
        ("user", ASK)]


CODEX_TOOLS = [
    {"type": "function", "name": "exec_command", "description": "Run a command", "strict": False,
     "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}},
    {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents", "tools": [
        {"type": "function", "name": "spawn_agent", "parameters": {"type": "object", "properties": {}}}]},
    {"type": "web_search", "external_web_access": True},
]
CODEX_ADDITIONAL = {"type": "additional_tools", "role": "developer", "tools": [
    {"type": "namespace", "name": "functions", "description": "", "tools": [
        {"type": "custom", "name": "exec", "description": "Run JavaScript",
         "format": {"type": "grammar", "syntax": "lark", "definition": "start: /[\\s\\S]+/"}}]}]}


def test_codex_shaped_tools_reach_a_chat_upstream_and_calls_come_back_in_kind(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Reply("", tool_calls=[("exec", {"input": "text('hi');"})]))
    response = post(stack, {"model": "gpt-x", "stream": False, "store": False, "tools": CODEX_TOOLS,
                            "include": ["reasoning.encrypted_content"], "parallel_tool_calls": False,
                            "prompt_cache_key": "session-1", "reasoning": {"effort": "low", "context": "all_turns"},
                            "input": [CODEX_ADDITIONAL, {"type": "message", "role": "user", "content": [
                                {"type": "input_text", "text": "Say hi"}]}]})
    assert response.status_code == 200, response.text
    sent = stack.openai.requests[-1].body
    functions = {tool["function"]["name"]: tool["function"] for tool in sent["tools"]}
    assert set(functions) == {"exec_command", "spawn_agent", "exec"}
    assert functions["exec"]["parameters"]["properties"] == {"input": {"type": "string"}}
    assert sent["prompt_cache_key"] == "session-1" and sent["parallel_tool_calls"] is False
    assert response.headers["x-legion-dropped-fields"] == "tools[2]:web_search"
    [call] = response.json()["output"]
    assert call == {**call, "type": "custom_tool_call", "name": "exec", "namespace": "functions",
                    "input": "text('hi');", "call_id": "call_0"}


def test_a_custom_tool_call_and_its_output_are_passed_back_as_one_string_argument(stack: Stack) -> None:
    post(stack, {"model": "gpt-x", "input": [
        CODEX_ADDITIONAL, {"role": "user", "content": "Read note.txt"},
        {"type": "custom_tool_call", "call_id": "call_0", "name": "exec", "input": "cat note.txt"},
        {"type": "custom_tool_call_output", "call_id": "call_0",
         "output": [{"type": "input_text", "text": "Launch code 4242."}]},
    ]})
    sent = stack.openai.requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "exec", "arguments": '{"input": "cat note.txt"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_0", "content": "Launch code 4242."}


def test_reasoning_items_from_elsewhere_are_never_refused(stack: Stack) -> None:
    response = post(stack, {"model": "claude-x", "input": [
        {"role": "user", "content": "Hi"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA-openai-blob"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thinking."}], "content": None},
        {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Again"}]})
    assert response.status_code == 200, response.text
    assert stack.anthropic.requests[-1].body["messages"][1]["content"] == [{"type": "text", "text": "Hello."}]


OK = {"model": "gpt-x", "input": "hi"}
BAD_INPUT = {
    "no_input": ({"model": "gpt-x"}, "input"),
    "input_wrong_type": ({**OK, "input": 42}, "input"),
    "input_empty": ({**OK, "input": []}, "input"),
    "item_not_object": ({**OK, "input": ["hi"]}, "input[0]"),
    "bad_role": ({**OK, "input": [{"role": "wizard", "content": "x"}]}, "input[0].role"),
    "message_without_content": ({**OK, "input": [{"role": "user"}]}, "input[0].content"),
    "unknown_item": ({**OK, "input": [{"type": "hologram"}]}, "input[0].type"),
    "item_reference": ({**OK, "input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
    "bad_part": ({**OK, "input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
                 "input[0].content[0].type"),
    "image_by_file_id": ({**OK, "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
                         "input[0].content[0].image_url"),
    "bad_data_url": ({**OK, "input": [{"role": "user", "content": [{"type": "input_image",
                                                                     "image_url": "data:nope"}]}]},
                     "input[0].content[0].image_url"),
    "call_arguments_not_json": ({**OK, "input": [{"type": "function_call", "call_id": "c", "name": "t",
                                                  "arguments": "{nope"}]}, "input[0].arguments"),
    "call_without_call_id": ({**OK, "input": [{"type": "function_call", "name": "t", "arguments": "{}"}]},
                             "input[0].call_id"),
    "output_wrong_type": ({**OK, "input": [{"type": "function_call_output", "call_id": "c", "output": 3}]},
                          "input[0].output"),
    "only_developer": ({**OK, "input": [{"role": "developer", "content": "x"}]}, "input"),
    "hosted_tool": ({**OK, "tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools[0].type"),
    "hosted_tool_in_namespace": ({**OK, "tools": [{"type": "namespace", "name": "n", "tools": [
        {"type": "web_search"}]}]}, "tools[0].tools[0].type"),
    "tool_without_type": ({**OK, "tools": [{"name": "t"}]}, "tools[0].type"),
    "bad_tool_name": ({**OK, "tools": [{"type": "function", "name": "has space"}]}, "tools[0].name"),
    "invalid_tool_schema": ({**OK, "tools": [{"type": "function", "name": "t", "parameters": {
        "type": "object", "properties": {"a": {"type": "colour"}}}}]}, "tools[0]"),
    "duplicate_tools": ({**OK, "tools": [WEATHER, WEATHER]}, "tools"),
    "bad_custom_format": ({**OK, "tools": [{"type": "custom", "name": "c", "format": {"type": "regexp"}}]},
                          "tools[0].format.type"),
    "bad_tool_choice": ({**OK, "tool_choice": "sometimes"}, "tool_choice"),
    "previous_response_id": ({**OK, "previous_response_id": "resp_1"}, "previous_response_id"),
    "conversation": ({**OK, "conversation": "conv_1"}, "conversation"),
    "background": ({**OK, "background": True}, "background"),
    "bad_effort": ({**OK, "reasoning": {"effort": "extreme"}}, "reasoning.effort"),
    "bad_format": ({**OK, "text": {"format": {"type": "yaml"}}}, "text.format.type"),
    "schema_missing": ({**OK, "text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema"),
    "temperature_out_of_range": ({**OK, "temperature": 3}, "temperature"),
    "max_output_tokens_zero": ({**OK, "max_output_tokens": 0}, "max_output_tokens"),
    "instructions_wrong_type": ({**OK, "instructions": ["x"]}, "instructions"),
    "store_wrong_type": ({**OK, "store": "no"}, "store"),
    "unknown_model": ({**OK, "model": "gpt-nope"}, "model"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_a_400_naming_the_field(stack: Stack, case: str) -> None:
    body, param = BAD_INPUT[case]
    response = post(stack, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_malformed_json_is_a_400(stack: Stack) -> None:
    response = httpx.post(f"{stack.url}/v1/responses", content=b'{"model": ', timeout=10,
                          headers={"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


def test_wrong_method_is_a_405_in_openai_shape(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/v1/responses", headers={"authorization": f"Bearer {TEST_KEY}"}, timeout=10)
    assert response.status_code == 405 and response.json()["error"]["type"] == "invalid_request_error"
