"""The Responses dialect on its own: tools and turns as parsed, and the event sequence its stream renderer writes."""

from __future__ import annotations

import json
from typing import Any

from proxy.dialects.fields import Limits
from proxy.dialects.responses import ResponsesDialect
from proxy.dialects.responses.parse import ResponsesRequest, request_parse
from proxy.dialects.responses.stream import ResponsesStreamRenderer
from proxy.errors import ErrorKind, ProxyError
from proxy.types import (
    ChatResponse,
    Finished,
    Message,
    RouteInfo,
    Started,
    StopReason,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCall,
    ToolUsePart,
    Usage,
)

ROUTE = RouteInfo(provider="p", model="m", tier="cloud", attempts=1, failovers=0)
FN = {"type": "function", "name": "wait", "parameters": {"type": "object", "properties": {}}}


def parse(**body: Any) -> ResponsesRequest:
    return request_parse(json.dumps({"model": "m", "input": "hi", **body}).encode(), Limits())


def events(raw: bytes) -> list[dict[str, Any]]:
    """The data of each SSE event, checked against its `event:` line."""
    out = []
    for frame in raw.decode().split("\n\n"):
        if frame.startswith("event: "):
            name, data = frame.split("\n")
            out.append(json.loads(data.removeprefix("data: ")))
            assert name == f"event: {out[-1]['type']}"
    return out


def test_a_namespaced_tool_keeps_its_name_unless_taken_then_its_namespace_qualifies_it() -> None:
    request = parse(tools=[{"type": "namespace", "name": "clock.v1", "tools": [FN]}, FN])
    assert [tool.name for tool in request.chat.tools] == ["clock_v1__wait", "wait"]
    assert request.tools.canonical("wait", "clock.v1") == "clock_v1__wait" and request.tools.canonical("wait") == "wait"


def test_instructions_then_leading_developer_items_are_the_system_prompt() -> None:
    request = parse(instructions="Be brief.", input=[
        {"type": "additional_tools", "role": "developer", "tools": [FN]},
        {"role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
        {"role": "user", "content": "hi"}, {"role": "system", "content": "Reminder."}])
    assert request.chat.system == (TextPart("Be brief."), TextPart("You are Codex."))
    assert request.chat.messages == (Message("user", (TextPart("hi"),)), Message("system", (TextPart("Reminder."),)))
    assert [tool.name for tool in request.chat.tools] == ["wait"]


def test_one_turns_reasoning_text_and_calls_are_one_assistant_message_and_outputs_one_user_turn() -> None:
    request = parse(input=[
        {"role": "user", "content": "go"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Plan."}],
         "encrypted_content": "legion-signature:sig"},
        {"type": "function_call", "call_id": "a", "name": "wait", "arguments": "{}"},
        {"type": "function_call", "call_id": "b", "name": "wait", "arguments": ""},
        {"type": "function_call_output", "call_id": "a", "output": "1"},
        {"type": "function_call_output", "call_id": "b", "output": "2"}])
    user, assistant, results = request.chat.messages
    assert assistant.content == (ThinkingPart("Plan.", "sig"), ToolUsePart("a", "wait", {}),
                                 ToolUsePart("b", "wait", {}))
    assert [part.tool_use_id for part in results.content] == ["a", "b"]  # type: ignore[union-attr]


def test_openai_only_fields_ride_as_native_and_store_does_not() -> None:
    request = parse(store=True, prompt_cache_key="k", text={"verbosity": "low"}, parallel_tool_calls=False,
                    metadata={"a": "b"})
    native = request.chat.native
    assert native is not None and native.family == "openai"
    assert dict(native.fields) == {"prompt_cache_key": "k", "verbosity": "low", "metadata": {"a": "b"}}


def renderer(body: dict[str, Any]) -> ResponsesStreamRenderer:
    dialect = ResponsesDialect()
    return dialect.stream_renderer(dialect.chat_parse(json.dumps({"model": "m", "input": "hi", **body}).encode(),
                                                      Limits()))


def rendered(body: dict[str, Any], *stream: Any) -> list[dict[str, Any]]:
    writer = renderer(body)
    return events(b"".join(writer.render(event) for event in stream))


def test_the_stream_numbers_every_event_and_indexes_items_in_order() -> None:
    out = rendered({"tools": [FN]}, Started("m", 3), ThinkingDelta("Hm."), ThinkingDelta(signature="sig"),
                   TextDelta("Hi"), ToolCall("call_1", "wait", "{}"), Finished(StopReason.TOOL_USE, Usage(3, 4), ROUTE))
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    done = [e for e in out if e["type"] == "response.output_item.done"]
    assert [(e["output_index"], e["item"]["type"]) for e in done] == [(0, "reasoning"), (1, "message"),
                                                                    (2, "function_call")]
    assert done[0]["item"]["encrypted_content"] == "legion-signature:sig"
    final = out[-1]
    assert final["type"] == "response.completed" and final["response"]["output"] == [e["item"] for e in done]
    assert final["response"]["usage"]["total_tokens"] == 7 and final["response"]["legion"]["provider"] == "p"


def test_a_stream_cut_by_max_tokens_ends_incomplete() -> None:
    out = rendered({}, Started("m", 3), TextDelta("Hi"), Finished(StopReason.LENGTH, Usage(3, 1), ROUTE))
    assert out[-1]["type"] == "response.incomplete"
    assert out[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_failure_before_any_event_still_opens_the_response_before_failing_it() -> None:
    out = events(renderer({}).error(ProxyError(ErrorKind.RATE_LIMITED, "slow down")))
    assert [e["type"] for e in out] == ["response.created", "response.in_progress", "response.failed"]
    assert out[-1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}


def test_a_whole_answer_renders_a_custom_tool_call_with_its_input_unwrapped() -> None:
    dialect = ResponsesDialect()
    dialect.chat_parse(json.dumps({"model": "m", "input": "hi", "tools": [
        {"type": "custom", "name": "apply_patch"}]}).encode(), Limits())
    answer = ChatResponse("r", "m", (ToolUsePart("c1", "apply_patch", {"input": "*** Begin Patch"}),),
                          StopReason.TOOL_USE, Usage(1, 1))
    [item] = dialect.chat_render(answer, ROUTE)["output"]
    assert (item["type"], item["call_id"], item["input"]) == ("custom_tool_call", "c1", "*** Begin Patch")
