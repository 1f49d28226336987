"""Model names and aliases resolve to lanes; filters and tier order decide who is asked, and in what order."""

from __future__ import annotations

import pytest

from apps.rbac.decisions import PolicyData
from proxy.callers import Caller
from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.router.candidates import Lane, Lineup, Pins
from proxy.router.tokens import request_tokens
from proxy.types import ChatRequest, ImagePart, Message, TextPart
from tests.proxy.conftest import ANY_MODEL, WEATHER, chat, model_spec, provider_spec

LINEUP = Lineup(
    [
        provider_spec("claude", "anthropic", "http://x", model_spec("sonnet", "tools", "vision", price_in=3)),
        provider_spec("gpt", "openai", "http://x", model_spec("mini", "tools", price_in=1),
                      model_spec("big", "tools", "vision", price_in=5)),
        provider_spec("ollama", "ollama", "http://x", model_spec("llama", context_window=1000)),
        provider_spec("ollama2", "ollama", "http://y", model_spec("llama", context_window=1000), tier="direct"),
        provider_spec("vllm", "openai_compatible", "http://z", model_spec("qwen", "tools")),
    ],
    {"smart": ["sonnet", "big"], "fast": ["llama", "gpt/mini"]},
)


def planned(lineup: Lineup, request: ChatRequest, *, pins: Pins, caller: Caller) -> list[Lane]:
    """The lanes for `request`, with the prompt estimate the service computes once and hands to the plan."""
    return lineup.chat_plan(request, prompt_tokens=request_tokens(request), pins=pins, caller=caller)


def keys(request_model: str, pins: Pins = Pins(), caller: Caller = ANY_MODEL, **fields: object) -> list[str]:
    request = chat(model=request_model, **fields)
    return [lane.key for lane in planned(LINEUP, request, pins=pins, caller=caller)]


def test_auto_orders_by_tier_then_price() -> None:
    assert keys("auto") == ["ollama/llama", "ollama2/llama", "vllm/qwen", "gpt/mini", "claude/sonnet", "gpt/big"]


def test_a_model_served_by_two_instances_has_two_lanes() -> None:
    assert keys("llama") == ["ollama/llama", "ollama2/llama"]


def test_aliases_span_tiers_and_accept_provider_model_pairs() -> None:
    assert keys("fast") == ["ollama/llama", "ollama2/llama", "gpt/mini"]
    assert keys("smart") == ["claude/sonnet", "gpt/big"]


def test_tools_and_images_filter_by_capability() -> None:
    assert keys("auto", tools=(WEATHER,)) == ["vllm/qwen", "gpt/mini", "claude/sonnet", "gpt/big"]
    image = ChatRequest(model="auto", messages=(
        Message("user", (TextPart("what"), ImagePart(media_type="image/png", data="AA=="))),))
    assert [lane.key for lane in planned(LINEUP, image, pins=Pins(), caller=ANY_MODEL)] == [
        "claude/sonnet", "gpt/big"]


def test_prompts_over_ninety_percent_of_the_window_are_filtered() -> None:
    assert "ollama/llama" in keys("auto", system=(TextPart("x" * 3500),))  # ~875 tokens < 900
    assert "ollama/llama" not in keys("auto", system=(TextPart("x" * 3700),))  # ~925 tokens > 900


def test_pins_are_hard_filters() -> None:
    assert keys("auto", pins=Pins(tier="direct")) == ["ollama2/llama"]
    assert keys("auto", pins=Pins(provider="gpt")) == ["gpt/mini", "gpt/big"]
    assert keys("auto", pins=Pins(model="claude/sonnet")) == ["claude/sonnet"]


def caller_with(*, allow: list[str], deny: list[str] = []) -> Caller:  # noqa: B006 - read only
    policy = PolicyData.from_document("p", rules=[{"path": p, "actions": ["execute"]} for p in allow],
                                      deny=[{"path": p, "actions": ["execute"]} for p in deny])
    return Caller(key_id="k", principal="svc", policies=(policy,))


def test_rbac_denied_tiers_remove_lanes() -> None:
    caller = caller_with(allow=["models/*"], deny=["models/cloud/*", "models/frontier/*"])
    assert keys("auto", caller=caller) == ["ollama/llama", "ollama2/llama", "vllm/qwen"]


def test_rbac_can_bar_one_provider_by_segment() -> None:
    caller = caller_with(allow=["models/*"], deny=["models/+/ollama2/*"])
    assert "ollama2/llama" not in keys("auto", caller=caller)
    assert "ollama/llama" in keys("auto", caller=caller)


def test_a_caller_barred_from_every_lane_is_forbidden_not_a_bad_request() -> None:
    with pytest.raises(ProxyError) as raised:
        keys("llama", caller=caller_with(allow=["models/frontier/*"]))
    assert raised.value.kind is ErrorKind.FORBIDDEN


def test_a_caller_with_no_policies_may_use_nothing() -> None:
    with pytest.raises(ProxyError) as raised:
        keys("auto", caller=Caller(key_id="k", principal="nobody", policies=()))
    assert raised.value.kind is ErrorKind.FORBIDDEN


def test_unknown_model_and_no_candidate_are_distinct_errors() -> None:
    with pytest.raises(ProxyError) as unknown:
        keys("gpt-9")
    with pytest.raises(ProxyError) as none:
        keys("llama", tools=(WEATHER,))
    assert unknown.value.kind is ErrorKind.UNKNOWN_MODEL and "gpt-9" in unknown.value.message
    assert none.value.kind is ErrorKind.NO_CANDIDATE and "ollama/llama lacks tools" in none.value.message


def test_an_alias_naming_nothing_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="names no declared model"):
        Lineup([LINEUP.lanes[0].provider], {"bad": ["nope"]})


def test_an_empty_lineup_says_no_provider_is_declared_and_where_to_declare_one() -> None:
    empty = Lineup([], {})
    for plan in (lambda: planned(empty, chat(model="auto"), pins=Pins(), caller=ANY_MODEL),
                 lambda: empty.count_plan(chat(model="gpt-4o"), pins=Pins(), caller=ANY_MODEL),
                 lambda: empty.embed_plan("text-embed", pins=Pins(), caller=ANY_MODEL)):
        with pytest.raises(ProxyError) as raised:
            plan()
        assert raised.value.kind is ErrorKind.NO_CANDIDATE and raised.value.param == "model"
        message = raised.value.message
        assert "no provider is declared" in message
        assert all(where in message for where in ("proxy.providers", "/admin/llm/provider/", "./legion start",
                                                  "./legion doctor", "docs/proxy.md"))


def test_auto_with_only_embedding_models_names_each_of_them() -> None:
    embeddings_only = Lineup([provider_spec("ollama", "ollama", "http://x",
                                             ModelSpec(id="nomic", capabilities=frozenset({"embeddings"})),
                                             ModelSpec(id="bge", capabilities=frozenset({"embeddings"})))], {})
    with pytest.raises(ProxyError) as raised:
        planned(embeddings_only, chat(model="auto"), pins=Pins(), caller=ANY_MODEL)
    assert raised.value.kind is ErrorKind.NO_CANDIDATE and raised.value.param == "model"
    assert "ollama/nomic" in raised.value.message and "ollama/bge" in raised.value.message


def test_when_every_lane_is_refused_each_is_named_with_its_reason() -> None:
    caller = caller_with(allow=["models/*"], deny=["models/+/ollama2/*"])
    with pytest.raises(ProxyError) as raised:
        planned(LINEUP, chat(model="fast", tools=(WEATHER,)), pins=Pins(tier="local"), caller=caller)
    message = raised.value.message
    assert raised.value.kind is ErrorKind.NO_CANDIDATE and raised.value.param == "model"
    assert "ollama/llama lacks tools" in message
    assert "ollama2/llama is barred to svc by RBAC" in message
    assert "gpt/mini is not in pinned tier local" in message


def test_embed_plan_names_each_lane_that_serves_no_embeddings() -> None:
    with pytest.raises(ProxyError) as raised:
        LINEUP.embed_plan("smart", pins=Pins(), caller=ANY_MODEL)
    assert raised.value.kind is ErrorKind.NO_CANDIDATE
    assert "claude/sonnet serves no embeddings" in raised.value.message and "gpt/big" in raised.value.message


def test_a_forbidden_answer_names_every_barred_candidate() -> None:
    with pytest.raises(ProxyError) as raised:
        keys("llama", caller=caller_with(allow=["models/frontier/*"]))
    assert raised.value.kind is ErrorKind.FORBIDDEN and raised.value.param == "model"
    assert "ollama/llama" in raised.value.message and "ollama2/llama" in raised.value.message


def test_counting_needs_no_capability_and_no_room_in_the_window() -> None:
    request = chat(model="llama", tools=(WEATHER,), system=(TextPart("x" * 8000),))
    assert [lane.key for lane in LINEUP.count_plan(request, pins=Pins(), caller=ANY_MODEL)] == [
        "ollama/llama", "ollama2/llama"]


def test_knows_ids_aliases_auto_and_provider_model_pairs() -> None:
    assert all(LINEUP.knows(name) for name in ("llama", "smart", "auto", "gpt/mini"))
    assert not LINEUP.knows("gpt/llama") and not LINEUP.knows("nope")
