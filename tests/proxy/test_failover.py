"""Escalation, deadlines, breakers and mid-stream failover, with fake providers that fail in scripted ways."""

from __future__ import annotations

import json
import logging
import time

import anthropic
import httpx
import openai
import pytest

from proxy.config import BreakerSettings, Deadlines
from proxy.streaming.continuation import INSTRUCTION
from tests.proxy.conftest import TEST_KEY, TEST_MATERIAL, Stack, model_spec, provider_spec
from tests.proxy.fakes.script import Die, Fail, Reply, Stall, StreamFail
from tests.support import wait_until

pytestmark = pytest.mark.timeout(60)
USER = [{"role": "user", "content": "Tell me a story."}]
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


def stream_text(stack: Stack, model: str, **extra: object) -> tuple[str, list[object]]:
    chunks = list(stack.openai_client().chat.completions.create(model=model, messages=USER, stream=True, **extra))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def legion_metadata(chunks: list[object]) -> dict[str, object]:
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]  # type: ignore[attr-defined]
    return finals[-1].model_extra["legion"]  # type: ignore[attr-defined,no-any-return]


def test_a_failed_attempt_escalates_to_the_next_candidate(stack: Stack) -> None:
    stack.ollama.queue("llama3", Fail("overloaded"))
    stack.vllm.queue("qwen", Reply("From the fleet."))
    raw = stack.openai_client().chat.completions.with_raw_response.create(model="fast", messages=USER)
    assert raw.parse().choices[0].message.content == "From the fleet."
    assert raw.headers["x-legion-attempts"] == "2" and raw.headers["x-legion-failover"] == "true"


def test_non_retryable_errors_pass_the_providers_reason_without_retrying(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Fail("content_policy"))  # gpt-x is the cheaper of `smart`, so it goes first
    with pytest.raises(openai.BadRequestError) as raised:
        stack.openai_client().chat.completions.create(model="smart", messages=USER)
    assert raised.value.body["code"] == "content_policy"  # type: ignore[index]
    assert "safety system" in raised.value.body["message"]  # type: ignore[index]
    assert stack.anthropic.requests == []


def test_context_overflow_skips_candidates_with_no_larger_window(stack: Stack) -> None:
    settings = stack.configure()
    wide_local = provider_spec("ollama-local", "ollama", stack.urls["ollama"],
                               model_spec("llama3", "tools", context_window=65536))
    stack.configure(providers=(wide_local, *settings.providers[1:]), aliases={"wide": ("llama3", "qwen", "gpt-x")})
    stack.ollama.queue("llama3", Fail("context_length"))
    raw = stack.openai_client().chat.completions.with_raw_response.create(model="wide", messages=USER)
    assert raw.headers["x-legion-provider"] == "openai"  # 128k window; qwen's 32k was skipped
    assert stack.vllm.requests == []


def test_429_retry_after_holds_the_provider_for_every_request(stack: Stack) -> None:
    stack.ollama.queue("llama3", Fail("rate_limit", retry_after=30))
    first = stack.openai_client().chat.completions.with_raw_response.create(model="fast", messages=USER)
    second = stack.openai_client().chat.completions.with_raw_response.create(model="fast", messages=USER)
    assert first.headers["x-legion-provider"] == second.headers["x-legion-provider"] == "vllm-fleet"
    assert len(stack.ollama.requests) == 1  # held open by Retry-After: no second network attempt


def test_all_candidates_rate_limited_is_a_429_with_retry_after(stack: Stack) -> None:
    stack.configure(max_attempts=2)  # no attempt left to retry one of them
    stack.ollama.queue("llama3", Fail("rate_limit", retry_after=5))
    stack.vllm.queue("qwen", Fail("rate_limit", retry_after=9))
    with pytest.raises(openai.RateLimitError) as raised:
        stack.openai_client().chat.completions.create(model="fast", messages=USER)
    assert raised.value.response.headers["retry-after"] == "5"


def test_breaker_opens_after_repeated_failures_then_probes_after_cooldown(stack: Stack) -> None:
    stack.configure(breaker=BreakerSettings(store="memory", failure_threshold=2, window_seconds=60,
                                            cooldown_seconds=0.5))
    stack.ollama.queue("llama3", Fail("server"), Fail("server"))
    client = stack.openai_client()
    for _ in range(3):
        client.chat.completions.create(model="fast", messages=USER)
    assert len(stack.ollama.requests) == 2  # third request skipped the open breaker without a network attempt
    status = httpx.get(f"{stack.url}/v1/legion/status", headers={"x-api-key": TEST_KEY}).json()
    assert {p["name"]: p["breaker"] for p in status["providers"]}["ollama-local"] == "open"
    time.sleep(0.6)  # the 0.5 s cooldown passes
    raw = client.chat.completions.with_raw_response.create(model="fast", messages=USER)
    assert raw.headers["x-legion-provider"] == "ollama-local"  # the half-open probe succeeded
    status = httpx.get(f"{stack.url}/v1/legion/status", headers={"x-api-key": TEST_KEY}).json()
    assert {p["name"]: p["breaker"] for p in status["providers"]}["ollama-local"] == "closed"


def test_every_breaker_open_is_a_503_without_network(stack: Stack) -> None:
    stack.configure(breaker=BreakerSettings(store="memory", failure_threshold=1, cooldown_seconds=60))
    stack.anthropic.queue("claude-x", Fail("server"))
    stack.openai.queue("gpt-x", Fail("server"))
    client = stack.openai_client()
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="smart", messages=USER)
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model="smart", messages=USER)
    assert raised.value.status_code == 503 and raised.value.body["code"] == "unavailable"  # type: ignore[index]
    assert len(stack.anthropic.requests) == len(stack.openai.requests) == 1


def test_a_stalled_provider_is_abandoned_at_the_first_token_deadline(stack: Stack) -> None:
    stack.configure(deadlines=Deadlines(connect=1, first_token=0.5, idle=0.5, total=10))
    stack.ollama.queue("llama3", Stall(seconds=10))
    stack.vllm.queue("qwen", Reply("Fleet answer."))
    started = time.monotonic()
    text, chunks = stream_text(stack, "fast")
    assert text == "Fleet answer." and time.monotonic() - started < 3
    meta = legion_metadata(chunks)
    assert meta["failover"] is True and meta["continued"] is False


def test_a_failure_before_content_is_invisible_and_keepalives_flow(stack: Stack) -> None:
    stack.configure(deadlines=Deadlines(connect=1, first_token=0.6, idle=0.5, total=10), keepalive_seconds=0.1)
    stack.ollama.queue("llama3", Stall(seconds=10))
    stack.vllm.queue("qwen", Reply("Clean answer."))
    with httpx.stream("POST", f"{stack.url}/v1/chat/completions", timeout=10,
                      headers={"authorization": f"Bearer {TEST_KEY}"},
                      json={"model": "fast", "messages": USER, "stream": True}) as response:
        lines = [line for line in response.iter_lines() if line]
    assert ": keep-alive" in lines
    payloads = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p["choices"]) == "Clean answer."
    assert lines[-1] == "data: [DONE]"


def test_continuation_with_prefill_reads_as_one_answer(stack: Stack) -> None:
    stack.configure(aliases={"pair": ("gpt-x", "claude-x")})
    # Frames: the role chunk, then a word each; the client has "Once upon a time " when the connection drops.
    stack.openai.queue("gpt-x", Die(after=5, reply=Reply("Once upon a time there was a fox.")))
    stack.anthropic.queue("claude-x", Reply(" there was a fox."))
    text, chunks = stream_text(stack, "pair")
    assert text == "Once upon a time there was a fox."  # the trimmed space is not doubled
    prefill = stack.anthropic.requests[-1].body["messages"][-1]
    assert prefill == {"role": "assistant", "content": [{"type": "text", "text": "Once upon a time"}]}
    meta = legion_metadata(chunks)
    assert meta["continued"] is True and meta["served_by"] == ["openai/gpt-x", "anthropic/claude-x"]


def claude_first(stack: Stack, **overrides: object) -> None:
    """`pair` = claude-x then gpt-x: claude-x made the cheaper of the two frontier models."""
    providers = list(stack.configure().providers)
    providers[3] = provider_spec("anthropic", "anthropic", stack.urls["anthropic"], model_spec(
        "claude-x", "tools", "vision", "json", "thinking", "prefill", context_window=200000))
    stack.configure(providers=tuple(providers), aliases={"pair": ("claude-x", "gpt-x")}, **overrides)


def test_continuation_without_prefill_sends_an_explicit_instruction(stack: Stack) -> None:
    claude_first(stack)
    stack.anthropic.queue("claude-x", StreamFail(after=5, reply=Reply("Alpha beta gamma delta.")))
    stack.openai.queue("gpt-x", Reply("gamma delta."))
    with stack.anthropic_client().messages.stream(model="pair", max_tokens=100, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Alpha beta gamma delta." and final.stop_reason == "end_turn"
    sent = stack.openai.requests[-1].body["messages"]
    assert sent[-2] == {"role": "assistant", "content": "Alpha beta"}
    assert sent[-1] == {"role": "user", "content": INSTRUCTION}


def test_a_fallback_that_restarts_the_answer_sends_each_word_once(stack: Stack) -> None:
    claude_first(stack)
    # Frames: message_start, content_block_start, ping, then a word each: the client has "Once upon a time ".
    stack.anthropic.queue("claude-x", Die(after=7, reply=Reply("Once upon a time there was a fox.")))
    stack.openai.queue("gpt-x", Reply("Once upon a time there was a fox."))  # no prefill: asked to continue
    text, chunks = stream_text(stack, "pair")
    assert text == "Once upon a time there was a fox."
    assert chunks[-1].choices[0].finish_reason == "stop"  # type: ignore[attr-defined]
    assert legion_metadata(chunks)["continued"] is True


def test_a_fallback_that_restarts_differently_ends_the_stream_with_an_error(stack: Stack) -> None:
    claude_first(stack, max_attempts=2)
    stack.anthropic.queue("claude-x", Die(after=7, reply=Reply("Once upon a time there was a fox.")))
    stack.openai.queue("gpt-x", Reply("Once upon a midnight dreary."))  # differs before "time"
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stack.openai_client().chat.completions.create(model="pair", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    assert "".join(received) == "Once upon a time "


def test_a_tool_call_cut_mid_arguments_never_reaches_the_client(stack: Stack) -> None:
    claude_first(stack)
    # Frames: message_start, ping, tool_use block start, the first argument fragment; then the connection drops.
    stack.anthropic.queue("claude-x", Die(after=4, reply=Reply("", tool_calls=[("get_weather", {"city": "Paris"})])))
    stack.openai.queue("gpt-x", Reply("", tool_calls=[("get_weather", {"city": "Rome"})]))
    chunks = list(stack.openai_client().chat.completions.create(model="pair", messages=USER, tools=[WEATHER],
                                                                stream=True))
    calls = [call for c in chunks if c.choices for call in (c.choices[0].delta.tool_calls or [])]
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [("get_weather", {"city": "Rome"})]


def test_when_no_candidate_can_finish_the_stream_ends_with_an_explicit_error(stack: Stack) -> None:
    stack.configure(aliases={"pair": ("gpt-x", "claude-x")}, max_attempts=2)
    stack.openai.queue("gpt-x", Die(after=3, reply=Reply("Half an answer that")))
    stack.anthropic.queue("claude-x", Fail("overloaded"))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stack.openai_client().chat.completions.create(model="pair", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    assert "".join(received) == "Half an "


def test_anthropic_clients_get_an_error_event_when_no_candidate_can_finish(stack: Stack) -> None:
    stack.anthropic.queue("claude-x", StreamFail(after=5, kind="overloaded", reply=Reply("Half way through")))
    stack.openai.queue("gpt-x", Fail("server"))
    claude_first(stack, max_attempts=2)
    texts = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with stack.anthropic_client().messages.stream(model="pair", max_tokens=50, messages=USER) as stream:
            texts.extend(stream.text_stream)
    assert "".join(texts) == "Half way "
    assert raised.value.body["error"]["code"] == "exhausted"  # type: ignore[index]


def test_an_idle_gap_mid_stream_fails_over(stack: Stack) -> None:
    stack.configure(aliases={"pair": ("gpt-x", "claude-x")},
                    deadlines=Deadlines(connect=1, first_token=2, idle=0.4, total=10))
    stack.openai.queue("gpt-x", Stall(seconds=10, after=3, reply=Reply("Slow and steady wins.")))
    stack.anthropic.queue("claude-x", Reply("steady wins."))
    text, _ = stream_text(stack, "pair")
    assert text == "Slow and steady wins."


def ledger_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage().removeprefix("request ")) for r in caplog.records
            if r.name == "legion.proxy.ledger"]


def ledger_after(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The ledger events, once the first has come (the sink writes after the response, from another thread)."""
    return wait_until(lambda: ledger_lines(caplog), timeout=5, what="the ledger's first event")


def test_every_request_produces_one_ledger_event_with_its_attempts(stack: Stack,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    stack.ollama.queue("llama3", Fail("server"))
    with caplog.at_level(logging.INFO, logger="legion.proxy.ledger"):
        stack.openai_client().chat.completions.create(model="fast", messages=USER)
        events = ledger_after(caplog)
    assert len(events) == 1
    event = events[0]
    assert event["outcome"] == "ok" and event["failovers"] == 1 and event["caller_key_id"] == TEST_MATERIAL.prefix
    assert [(a["provider"], a["outcome"]) for a in event["attempts"]] == [("ollama-local", "server"),
                                                                          ("vllm-fleet", "ok")]
    assert event["attempts"][1]["usage_source"] == "provider"


# Retries on the one candidate left: gpt-x is served by the `openai` instance only.

def test_a_server_error_is_retried_on_the_only_candidate(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.openai.queue("gpt-x", Fail("server"))
    with caplog.at_level(logging.INFO, logger="legion.proxy.ledger"):
        raw = stack.openai_client().chat.completions.with_raw_response.create(model="gpt-x", messages=USER)
        events = ledger_after(caplog)
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    assert raw.headers["x-legion-attempts"] == "2" and len(stack.openai.requests) == 2
    assert [(a["provider"], a["outcome"]) for a in events[0]["attempts"]] == [("openai", "server"),  # type: ignore[attr-defined]
                                                                              ("openai", "ok")]


def test_a_connection_reset_is_retried_on_the_only_candidate(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Die(after=0))
    answer = stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert answer.choices[0].message.content == "Hello from the fake provider."
    assert len(stack.openai.requests) == 2


def test_a_429_is_retried_once_its_retry_after_has_passed(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Fail("rate_limit", retry_after=1))
    started = time.monotonic()
    answer = stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert answer.choices[0].message.content == "Hello from the fake provider."
    assert 1.0 <= time.monotonic() - started < 5 and len(stack.openai.requests) == 2
    stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)  # the hold is over for everyone
    assert len(stack.openai.requests) == 3


def test_a_retry_after_past_the_deadline_is_passed_to_the_client_at_once(stack: Stack) -> None:
    stack.configure(deadlines=Deadlines(connect=1, first_token=2, idle=1, total=4))
    stack.openai.queue("gpt-x", Fail("rate_limit", retry_after=30))
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as raised:
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert raised.value.response.headers["retry-after"] == "30"
    assert time.monotonic() - started < 2 and len(stack.openai.requests) == 1


def test_a_request_arriving_during_a_retry_after_hold_waits_for_it(stack: Stack) -> None:
    stack.configure(max_attempts=1)  # the first request gets the 429 itself; the second finds the hold
    stack.openai.queue("gpt-x", Fail("rate_limit", retry_after=1))
    with pytest.raises(openai.RateLimitError):
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    started = time.monotonic()
    answer = stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert answer.choices[0].message.content == "Hello from the fake provider."
    assert 0.5 < time.monotonic() - started < 5 and len(stack.openai.requests) == 2


def test_a_hold_past_the_deadline_is_what_the_client_is_told_to_wait(stack: Stack) -> None:
    stack.configure(deadlines=Deadlines(connect=1, first_token=2, idle=1, total=4))
    stack.openai.queue("gpt-x", Fail("rate_limit", retry_after=20))
    with pytest.raises(openai.RateLimitError):
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    with pytest.raises(openai.APIStatusError) as raised:
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert raised.value.status_code == 503 and raised.value.response.headers["retry-after"] == "20"
    assert len(stack.openai.requests) == 1


def test_retries_stop_at_max_attempts(stack: Stack) -> None:
    stack.configure(max_attempts=2)
    stack.openai.queue("gpt-x", Fail("server"), Fail("server"), Fail("server"))
    with pytest.raises(openai.APIStatusError) as raised:
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert raised.value.body["code"] == "exhausted"  # type: ignore[index]
    assert len(stack.openai.requests) == 2


@pytest.mark.parametrize(("failure", "settings"), [
    ("invalid", {}),  # the client's own fault: not retryable at all
    ("context_length", {}),  # neither the prompt nor the window changes on a second try
    ("auth", {}),
    ("not_found", {}),
    ("server", {"breaker": BreakerSettings(store="memory", failure_threshold=1, cooldown_seconds=60)}),
])
def test_the_only_candidate_is_not_retried_when_a_second_try_cannot_help(stack: Stack, failure: str,
                                                                         settings: dict[str, object]) -> None:
    stack.configure(**settings)
    stack.openai.queue("gpt-x", Fail(failure))
    with pytest.raises(openai.APIStatusError):
        stack.openai_client().chat.completions.create(model="gpt-x", messages=USER)
    assert len(stack.openai.requests) == 1


def test_a_stream_that_fails_before_content_is_retried_on_the_only_candidate(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Fail("overloaded"))
    text, chunks = stream_text(stack, "gpt-x")
    assert text == "Hello from the fake provider." and legion_metadata(chunks)["attempts"] == 2


def test_a_stream_cut_mid_answer_continues_on_the_only_candidate(stack: Stack) -> None:
    stack.openai.queue("gpt-x", Die(after=5, reply=Reply("Once upon a time there was a fox.")),
                       Reply("there was a fox."))
    text, chunks = stream_text(stack, "gpt-x")
    assert text == "Once upon a time there was a fox."
    meta = legion_metadata(chunks)
    assert meta["continued"] is True and meta["served_by"] == ["openai/gpt-x"]
    assert stack.openai.requests[-1].body["messages"][-1] == {"role": "user", "content": INSTRUCTION}
